"""The `transcribe` command line. Each subcommand is a function here; `--help` explains each.

Errors of our own (bad audio, unknown model, unsupported language) print one line on stderr
and exit 2; nothing prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from transcribe import __version__
from transcribe.config import Settings
from transcribe.errors import TranscribeError

if TYPE_CHECKING:
    from transcribe.asr.transcriber import ProgressCallback

log = logging.getLogger("transcribe")

EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG
        if args.verbose > 1
        else logging.INFO
        if args.verbose
        else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        result: int = args.handler(args, Settings())
        return result
    except TranscribeError as exc:
        print(f"transcribe: error: {exc.message}", file=sys.stderr)
        return EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="transcribe",
        description=(
            "Self-hosted call recording and per-channel transcription. Settings come from "
            "TRANSCRIBE__* environment variables (e.g. TRANSCRIBE__ASR__MODEL, "
            "TRANSCRIBE__DATA_DIR); see the README."
        ),
    )
    parser.add_argument("--version", action="version", version=f"transcribe {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more (-v info, -vv debug)"
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    file_cmd = commands.add_parser(
        "file",
        help="transcribe a recording file, one transcript per channel",
        description=(
            "Transcribe a recording (WAV, FLAC, MP3 or OGG; mono, stereo or up to 32 "
            "channels, any sample rate) offline with the configured Whisper model. Each "
            "channel is transcribed on its own and appears in the output in channel order. "
            "The document (or export) goes to stdout; progress goes to stderr when it is a "
            "terminal."
        ),
    )
    file_cmd.add_argument("path", type=Path, help="the recording file")
    file_cmd.add_argument(
        "--language",
        default=None,
        help="spoken language as a code like en-US or fr (default: English for English-only "
        "models, detected otherwise)",
    )
    file_cmd.add_argument(
        "--output",
        choices=("json", "txt", "srt", "vtt"),
        default="json",
        help="json: the transcription document (default); txt/srt/vtt: channel-labelled text",
    )
    file_cmd.set_defaults(handler=cmd_file)
    return parser


def cmd_file(args: argparse.Namespace, settings: Settings) -> int:
    from transcribe.asr import Transcriber
    from transcribe.audio import load_audio
    from transcribe.exports import export

    audio = load_audio(args.path)
    transcriber = Transcriber(settings.asr)
    transcriber.check_language(args.language)
    with _progress_bar(args.path.name) as update:
        doc = transcriber.transcribe(audio, language=args.language, progress=update)
    if args.output == "json":
        sys.stdout.write(doc.model_dump_json(indent=2) + "\n")
    else:
        sys.stdout.write(export(doc, args.output))
    return 0


@contextmanager
def _progress_bar(label: str) -> Iterator[ProgressCallback]:
    """A bar in seconds of audio on stderr, shown only when stderr is a terminal."""
    from tqdm import tqdm

    with tqdm(
        total=0,
        desc=label,
        disable=not sys.stderr.isatty(),
        file=sys.stderr,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s of audio "
        "[{elapsed}<{remaining}]",
    ) as bar:

        def update(done: float, total: float) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        yield update


if __name__ == "__main__":
    raise SystemExit(main())

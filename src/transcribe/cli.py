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

    serve = commands.add_parser(
        "serve",
        help="run the HTTP API (with in-process queue workers by default)",
        description=(
            "Run the API under uvicorn. On embedded defaults this is the whole product in one "
            "process: SQLite and files in TRANSCRIBE__DATA_DIR, the queue in SQLite, consumer "
            "threads and the model in this process. Set TRANSCRIBE__EMBEDDED_WORKER=false on "
            "API nodes whose work is done by `transcribe worker` machines."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser(
        "worker",
        help="run queue consumers only (transcription and webhooks), e.g. on GPU machines",
        description=(
            "Work the queue shared with the API nodes: TRANSCRIBE__DATABASE_URL, "
            "TRANSCRIBE__QUEUE_URL and TRANSCRIBE__DATA_DIR (a shared volume) must match theirs. "
            "Loads the model at start; stops cleanly on SIGINT/SIGTERM."
        ),
    )
    worker.add_argument(
        "--threads", type=int, default=None, help="consumer threads (default: settings)"
    )
    worker.set_defaults(handler=cmd_worker)

    app_cmd = commands.add_parser("app", help="manage applications")
    app_commands = app_cmd.add_subparsers(title="app commands", required=True, metavar="COMMAND")
    create = app_commands.add_parser(
        "create",
        help="register an application and print its id and signature secret as JSON",
        description=(
            "Register an application whose RS256 JWTs (signed by the private key matching "
            "--public-key) may call the API. Prints {id, signature_secret, ...}: keep the "
            "secret, it verifies this application's webhooks."
        ),
    )
    create.add_argument("--name", required=True)
    create.add_argument(
        "--public-key", required=True, type=Path, help="PEM file with an RSA public key"
    )
    create.add_argument("--event-url", default=None, help="default URL for record events")
    create.add_argument("--event-method", choices=("POST", "GET"), default="POST")
    create.set_defaults(handler=cmd_app_create)

    token = commands.add_parser(
        "token",
        help="mint an RS256 JWT for an application (for scripts and tests)",
        description="Print a JWT with the claims the API requires, signed by --private-key.",
    )
    token.add_argument("--application-id", required=True)
    token.add_argument("--private-key", required=True, type=Path, help="PEM RSA private key")
    token.add_argument("--ttl", type=int, default=900, help="seconds until it expires (900)")
    token.set_defaults(handler=cmd_token)
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


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from transcribe import logs
    from transcribe.api import create_app

    logs.configure(logging.DEBUG if args.verbose > 1 else logging.INFO)
    uvicorn.run(
        create_app(settings), host=args.host, port=args.port, log_config=None, access_log=False
    )
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    import signal
    import threading

    from transcribe import logs
    from transcribe.service import Service

    logs.configure(logging.DEBUG if args.verbose > 1 else logging.INFO)
    if args.threads:
        settings.jobs.consumer_threads = args.threads
    service = Service(settings)
    service.warm_up()
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    service.start_workers()
    log.info("worker ready; waiting for jobs")
    stop.wait()
    log.info("stopping")
    service.close()
    return 0


def cmd_app_create(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from transcribe.service import Service

    public_key = _read_text(args.public_key, "public key")
    service = Service(settings)
    try:
        created = service.create_application(
            args.name, public_key, args.event_url, args.event_method
        )
    finally:
        service.close()
    print(json.dumps(created, indent=2))
    return 0


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    from transcribe.auth import mint_application_token

    private_key = _read_text(args.private_key, "private key")
    try:
        print(mint_application_token(args.application_id, private_key, ttl_s=args.ttl))
    except (ValueError, TypeError) as exc:
        raise TranscribeError(f"{args.private_key}: not a PEM RSA private key ({exc})") from exc
    return 0


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise TranscribeError(f"cannot read the {what} {path}: {exc.strerror}") from exc


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

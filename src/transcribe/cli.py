"""The `transcribe` command line. Each subcommand is a function here; `--help` explains each.

Errors of our own (bad audio, unknown model, unsupported language) print one line on stderr
and exit 2; nothing prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from transcribe import __version__
from transcribe.config import Settings
from transcribe.errors import TranscribeError
from transcribe.limits import MAX_CHANNELS, MAX_RECORD_SECONDS
from transcribe.sentiment.rules import NEUTRAL_BAND
from transcribe.threads import tune_allocator

if TYPE_CHECKING:
    from transcribe.asr.transcriber import ProgressCallback
    from transcribe.recording import LegFile

log = logging.getLogger("transcribe")

EXIT_USAGE = 2


def main(argv: Sequence[str] | None = None) -> int:
    tune_allocator()  # before any thread starts: see threads.py
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

    _add_file_commands(commands)
    _add_service_commands(commands)
    _add_auth_commands(commands)
    _add_record_command(commands)
    return parser


def _add_file_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`file` and `analyze`: offline, no service."""
    file_cmd = commands.add_parser(
        "file",
        help="transcribe a recording file, one transcript per channel",
        description=(
            f"Transcribe a recording (WAV, FLAC, MP3 or OGG; mono, stereo or up to {MAX_CHANNELS} "
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
        help="spoken language, a BCP-47 code like en-US or es-MX, or a bare language like fr "
        "(default: English for English-only models, detected otherwise); languages other than "
        "English go to the multilingual model",
    )
    file_cmd.add_argument(
        "--output",
        choices=("json", "txt", "srt", "vtt"),
        default="json",
        help="json: the transcription document (default); txt/srt/vtt: channel-labelled text",
    )
    file_cmd.add_argument(
        "--no-analytics",
        action="store_true",
        help="skip the spaCy step that fills questions, answers, action items and qa_pairs "
        "(it runs on English transcripts only)",
    )
    file_cmd.add_argument(
        "--sentiment",
        action="store_true",
        help="add `sentiment` (-1 negative to 1 positive) to every sentence, as the service's "
        "sentimentAnalysis option does",
    )
    file_cmd.set_defaults(handler=cmd_file)

    analyze = commands.add_parser(
        "analyze",
        help="(re-)fill questions, answers, action items and qa_pairs of a transcription JSON",
        description=(
            "Read a transcription document (the JSON `transcribe file` prints), replace the "
            "questions, answers and action_items of every sentence and the top-level qa_pairs "
            "with what the analytics step finds, and print the document on stdout."
        ),
    )
    analyze.add_argument("document", type=Path, help="the transcription document (JSON)")
    analyze.set_defaults(handler=cmd_analyze)

    sentiment = commands.add_parser(
        "sentiment",
        help="score sentences read on stdin, one a line, for sentiment",
        description=(
            "Read sentences on standard input, one a line, and print one score a line on "
            "standard output, in the same order: a number from -1 (negative) to 1 (positive), "
            f"neutral when it is closer to 0 than {NEUTRAL_BAND} (an empty line scores 0). "
            "These are the scores that `transcribe file --sentiment` and the service's "
            "sentimentAnalysis option give each sentence. Offline (a lexicon and call-specific "
            "rules, no model) and deterministic: the same line always gets the same score."
        ),
        epilog="example: printf 'Not bad at all.\\nGreat, another hour on hold.\\n' | "
        "transcribe sentiment",
    )
    sentiment.set_defaults(handler=cmd_sentiment)


def _add_service_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`serve` and `worker`: the service's processes."""
    serve = commands.add_parser(
        "serve",
        help="run the HTTP API (with in-process queue workers by default)",
        description=(
            "Run the API under uvicorn. On embedded defaults this is the whole product in one "
            "process: SQLite and files in TRANSCRIBE__DATA_DIR, the queue in SQLite, consumer "
            "threads and the model in this process. Set TRANSCRIBE__EMBEDDED_WORKER=false on "
            "API nodes whose work is done by `transcribe worker` machines. The URLs it hands "
            "out (recording_url, transcription_url, legs_url) start with "
            "TRANSCRIBE__PUBLIC_URL, or, when that is unset, http://HOST:PORT."
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


def _add_auth_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`app create` and `token`: applications and their JWTs."""
    app_cmd = commands.add_parser("app", help="manage applications")
    app_commands = app_cmd.add_subparsers(title="app commands", required=True, metavar="COMMAND")
    create = app_commands.add_parser(
        "create",
        help="register an application and print its id and signature secret as JSON",
        description=(
            "Register an application whose RS256 JWTs (signed by the private key matching "
            "--public-key) may call the API. Prints {id, signature_secret, ...}: keep the "
            "secret, it verifies this application's webhooks. The application goes into the "
            "database of TRANSCRIBE__DATA_DIR (default: ./data in the current directory) or "
            "TRANSCRIBE__DATABASE_URL; stderr says which."
        ),
    )
    create.add_argument("--name", required=True)
    create.add_argument(
        "--public-key", required=True, type=Path, help="PEM file with an RSA public key"
    )
    create.add_argument(
        "--event-url", default=None, help="default URL for events (http:// or https://)"
    )
    create.add_argument("--event-method", choices=("POST", "GET"), default="POST")
    create.set_defaults(handler=cmd_app_create)

    token = commands.add_parser(
        "token",
        help="mint an RS256 JWT for an application (for scripts and tests)",
        description="Print a JWT with the claims the API requires, signed by --private-key.",
    )
    token.add_argument("--application-id", required=True)
    token.add_argument("--private-key", required=True, type=Path, help="PEM RSA private key")
    token.add_argument(
        "--ttl",
        type=_seconds,
        default=900,
        help="seconds until it expires (900); the service refuses tokens living longer than "
        "TRANSCRIBE__MAX_TOKEN_LIFETIME_S (a day)",
    )
    token.set_defaults(handler=cmd_token)


def _seconds(text: str) -> int:
    """`--ttl`: whole seconds, at least 1 (a token that has expired already is of no use)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of seconds, not {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 second, not {value}")
    return value


def _add_record_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`record`: the recording engine on leg files."""
    record = commands.add_parser(
        "record",
        help="render per-leg audio files into one recording, like the record action",
        description=(
            "Render call legs (one audio file per leg: WAV, FLAC, MP3 or OGG, any rate) into "
            "a recording as Vonage's record action would: mono, split stereo or N channels, "
            "16 kHz, each leg at its offset on the recording clock. Faster than real time. "
            "Prints a JSON summary (file, format, channels, duration, size, why it ended)."
        ),
    )
    record.add_argument(
        "legs",
        nargs="+",
        metavar="LEG[@OFFSET_MS]",
        help="leg files in join order (the first is the caller), each optionally with the "
        "millisecond it joined, e.g. agent.wav@1500",
    )
    record.add_argument("-o", "--output", required=True, type=Path, help="the recording file")
    record.add_argument(
        "--format",
        metavar="F",
        help="mp3, wav or ogg (default: from OUT's extension, else mp3, or wav for more than "
        "2 channels)",
    )
    record.add_argument(
        "--split", metavar="conversation", help="stereo: caller left, everyone else right"
    )
    record.add_argument(
        "--channels",
        metavar="N",
        help=f"1-{MAX_CHANNELS}: leg k in channel k, the rest in channel N",
    )
    record.add_argument(
        "--end-on-silence", metavar="S", help="stop after S (3-10) seconds of silence"
    )
    record.add_argument("--end-on-key", metavar="K", help="stop at keypad key K (0-9, *, #)")
    record.add_argument(
        "--timeout", metavar="S", help=f"stop after S (3-{MAX_RECORD_SECONDS}) seconds"
    )
    record.add_argument("--beep-start", action="store_true", help="beep at the start")
    record.set_defaults(handler=cmd_record)


def cmd_file(args: argparse.Namespace, settings: Settings) -> int:
    from transcribe.audio import open_audio
    from transcribe.engines import Engines
    from transcribe.exports import export
    from transcribe.metrics import Metrics

    audio = open_audio(args.path, settings.max_audio_seconds)  # decoded channel by channel
    audio.check_intact()
    engines = Engines(settings, Metrics())
    engines.check_language(args.language)
    transcriber = engines.transcriber_for(args.language)  # English, or the multilingual model
    transcriber.check_language(args.language)
    with _progress_bar(args.path.name) as update:
        doc = transcriber.transcribe(audio, language=args.language, progress=update)
    for warning in doc.warnings:  # in the JSON too; said here for the text exports
        print(f"transcribe: warning: {warning.message}", file=sys.stderr)
    doc = engines.annotate(
        doc, args.language, analytics=not args.no_analytics, sentiment=args.sentiment
    )
    if args.output == "json":
        sys.stdout.write(doc.model_dump_json(indent=2) + "\n")
    else:
        sys.stdout.write(export(doc, args.output))
    return 0


def cmd_analyze(args: argparse.Namespace, settings: Settings) -> int:
    from pydantic import ValidationError

    from transcribe.analytics import Analyzer
    from transcribe.document import TranscriptionDocument
    from transcribe.errors import InvalidRequestError

    try:
        data = args.document.read_bytes()
    except OSError as exc:
        raise InvalidRequestError(
            f"cannot read the transcription document {args.document}: {exc.strerror}",
            field="document",
        ) from None
    try:
        doc = TranscriptionDocument.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        raise InvalidRequestError(
            f"{args.document} is not a transcription document: {where}: {first['msg']}",
            field="document",
        ) from None
    sys.stdout.write(Analyzer().analyze(doc).model_dump_json(indent=2) + "\n")
    return 0


def cmd_sentiment(args: argparse.Namespace, settings: Settings) -> int:
    from transcribe.sentiment.scorer import SentimentScorer

    scorer = SentimentScorer()
    # Bytes that are not UTF-8 become U+FFFD instead of stopping the stream halfway.
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    for line in stdin:
        sys.stdout.write(f"{scorer.score(line):.4f}\n")
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from transcribe import logs
    from transcribe.api import create_app

    logs.configure(logging.DEBUG if args.verbose > 1 else logging.INFO)
    chosen = "public_url" in settings.model_fields_set
    settings = settings.served_at(args.host, args.port)
    log.info(
        "public URL %s (%s): recording_url, transcription_url and legs_url start with it",
        settings.public_url,
        "TRANSCRIBE__PUBLIC_URL"
        if chosen
        else "from --host and --port; set TRANSCRIBE__PUBLIC_URL if clients reach the service "
        "at another address",
    )
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
    log.info(
        "public URL %s (%s): the URLs in webhooks start with it",
        settings.public_url,
        "TRANSCRIBE__PUBLIC_URL"
        if "public_url" in settings.model_fields_set
        else "the default; set TRANSCRIBE__PUBLIC_URL to the API's",
    )
    service = Service(settings)
    service.engines.warm_up()
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
        created = service.applications.create(
            args.name, public_key, args.event_url, args.event_method
        )
    finally:
        service.close()
    print(json.dumps(created.model_dump(), indent=2))
    # The data dir defaults to ./data of wherever this ran: say which one (and which
    # database) took the application, on stderr so that stdout stays the JSON.
    print(
        f"transcribe: registered application {created.id} in the data dir "
        f"{settings.data_dir.resolve()} (database {_database_name(settings)}); run "
        "`transcribe serve` with the same TRANSCRIBE__DATA_DIR (and TRANSCRIBE__DATABASE_URL)",
        file=sys.stderr,
    )
    return 0


def _database_name(settings: Settings) -> str:
    """The database URL, its password hidden."""
    from sqlalchemy.engine import make_url

    return make_url(settings.sqlalchemy_url).render_as_string(hide_password=True)


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    from transcribe.auth import mint_application_token

    if args.ttl > settings.max_token_lifetime_s:
        raise TranscribeError(
            f"--ttl {args.ttl}: the service refuses tokens living over "
            f"{settings.max_token_lifetime_s:.0f} s (TRANSCRIBE__MAX_TOKEN_LIFETIME_S)"
        )
    private_key = _read_text(args.private_key, "private key")
    try:
        token = mint_application_token(args.application_id, private_key, ttl_s=args.ttl)
    except TranscribeError as exc:
        raise TranscribeError(f"{args.private_key}: {exc.message}") from exc
    print(token)
    return 0


def cmd_record(args: argparse.Namespace, settings: Settings) -> int:
    import json

    from transcribe.errors import InvalidParametersError
    from transcribe.ncco import parse_record
    from transcribe.recording import render_files

    options, flags = _record_options(args)
    try:
        action = parse_record(options)
    except InvalidParametersError as exc:
        named = [(flags.get(name, name), reason) for name, reason in exc.problems]
        raise InvalidParametersError(named) from None
    legs = [_leg_file(text) for text in args.legs]
    for leg in legs:
        if _same_file(leg.path, args.output):
            raise InvalidParametersError(
                [("-o/--output", f"{args.output} is also a leg; the recording would overwrite it")]
            )
    result = render_files(action, legs, args.output)
    print(json.dumps(result.summary(), indent=2))
    return 0


_EXTENSIONS = {".mp3": "mp3", ".wav": "wav", ".ogg": "ogg"}


def _record_options(args: argparse.Namespace) -> tuple[dict[str, object], dict[str, str]]:
    """The record action as JSON would give it, and which flag each of its fields came from."""
    from transcribe.errors import InvalidParametersError

    options: dict[str, object] = {}
    flags = {"split": "--split", "channels": "--channels", "endOnSilence": "--end-on-silence"}
    flags |= {"endOnKey": "--end-on-key", "timeOut": "--timeout", "format": "--format"}
    implied = _EXTENSIONS.get(args.output.suffix.lower())
    if args.format is not None:
        if implied is not None and implied != args.format:
            raise InvalidParametersError(
                [("--format", f"{args.format}, but {args.output.name} says {implied}")]
            )
        options["format"] = args.format
    elif implied is not None:
        options["format"] = implied
        flags["format"] = "-o/--output"
    if args.split is not None:
        options["split"] = args.split
    for field, value, kind in (
        ("channels", args.channels, int),
        ("endOnSilence", args.end_on_silence, float),
        ("timeOut", args.timeout, int),
    ):
        if value is not None:
            options[field] = _number(value, flags[field], kind)
    if args.end_on_key is not None:
        options["endOnKey"] = args.end_on_key
    if args.beep_start:
        options["beepStart"] = True
    return options, flags


def _number(text: str, flag: str, kind: type[int] | type[float]) -> int | float:
    from transcribe.errors import InvalidParametersError

    try:
        value = kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise InvalidParametersError([(flag, f"must be {what} (got {text!r})")]) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidParametersError([(flag, f"must be a number (got {text!r})")])
    return value


def _leg_file(text: str) -> LegFile:
    """`call.wav` or `call.wav@1500` (joined 1.5 s in); an @ not followed by a number is part
    of the file name."""
    from transcribe.errors import InvalidParametersError
    from transcribe.limits import MAX_LEG_OFFSET_MS
    from transcribe.recording import LegFile

    name, at, offset = text.rpartition("@")
    if not at:
        return LegFile(Path(text))
    try:
        offset_ms = float(offset)
    except ValueError:
        if not Path(text).exists():  # a leg named `a@b.wav` exists; `a.wav@abc` is a typo
            raise InvalidParametersError(
                [
                    (
                        text,
                        f"no such file, and {offset!r} after the @ is not an offset: write "
                        f"LEG@MS with the leg's join time in milliseconds, e.g. {name}@1500",
                    )
                ]
            ) from None
        return LegFile(Path(text))
    if not 0 <= offset_ms <= MAX_LEG_OFFSET_MS:
        raise InvalidParametersError([(text, f"the offset must be 0 to {MAX_LEG_OFFSET_MS} ms")])
    return LegFile(Path(name), offset_ms / 1000)


def _same_file(a: Path, b: Path) -> bool:
    """The same file, by any name (a link, `./x.wav`, another case on a case-blind disk)."""
    try:
        return a.resolve() == b.resolve() or os.path.samefile(a, b)
    except OSError:  # one of them does not exist
        return False


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

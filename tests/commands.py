"""The `transcribe` command run inside the test process: `transcribe.cli.main(argv)`.

The same parser, handlers and error lines as the installed command, without a new Python
starting and importing everything again. Output is read back from file descriptors 1 and 2
(pytest's capfd), so what libraries print outside `sys.stdout` and `sys.stderr` counts too.
Tests about the process itself (a terminal on stderr, `python -m transcribe`, signals) start
a real one instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from transcribe.cli import main


@dataclass(frozen=True)
class Ran:
    """What a user sees of one run: the exit status, stdout and stderr."""

    returncode: int
    stdout: str
    stderr: str


@dataclass
class Command:
    """Runs `transcribe ARGS`; `env` sets TRANSCRIBE__* settings for that run only."""

    capfd: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch

    def __call__(self, *args: str | Path, env: dict[str, str] | None = None) -> Ran:
        self.capfd.readouterr()  # drop what the test printed before
        with self.monkeypatch.context() as patch:
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            try:
                code = main([str(a) for a in args])
            except SystemExit as exc:  # argparse: --help, or a usage error
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        out, err = self.capfd.readouterr()
        return Ran(code, out, err)

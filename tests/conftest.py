"""Shared fixtures (real speech, the real models, the real API on loopback) and the test lanes.

Lanes: `model` marks a test that loads Whisper or spaCy, `servers` one that needs PostgreSQL,
Redis, a service in a subprocess, Docker or the network. `make test-fast` runs the rest.
A test is marked `model` here when it uses a fixture that loads a model (see
`pytest_collection_modifyitems`); a module that loads one itself says so with `pytestmark`.
A test that loads a model in this process without the mark fails, saying so, so the fast
lane cannot slow down unnoticed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Iterator
from typing import Any

import pytest

from transcribe.analytics import Analyzer
from transcribe.asr import Transcriber
from transcribe.clock import Clock
from transcribe.config import AsrSettings

from commands import Command
from live import KeyPair, LiveApi, Receiver, free_port, live_api, new_keypair, service_settings
from speech import Clip, load_clips


@pytest.fixture(scope="session")
def clips() -> dict[str, Clip]:
    """Every clip of the shared speech folder by file name, mono (channels averaged)."""
    return load_clips()


@pytest.fixture(scope="session")
def transcriber() -> Transcriber:
    """The real bundled tiny.en model on CPU, loaded once for the whole session."""
    return Transcriber(AsrSettings(device="cpu"))


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    """The real spaCy pipeline and rules, loaded once for the whole session."""
    return Analyzer()


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    """An application's RSA key pair (service tests)."""
    return new_keypair()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on loopback, answering 200 unless told otherwise."""
    r = Receiver().start()
    yield r
    r.stop()


def _api_settings(module: Any) -> dict[str, Any]:
    """A test module's changes to the `api` service's settings: its `API_SETTINGS`, if any."""
    return dict(getattr(module, "API_SETTINGS", {}))


@pytest.fixture(scope="module")
def service_clock() -> Clock | None:
    """The `api` service's clock: the wall clock (None), unless a module overrides this
    fixture with a `ManualClock` to move time on itself."""
    return None


@pytest.fixture(scope="module")
def api(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    service_clock: Clock | None,
) -> Iterator[LiveApi]:
    """The real API under uvicorn in a thread of this process, on a loopback port, with a
    fresh data dir: one per test module. A module sets `API_SETTINGS` (keyword arguments of
    `live.service_settings`) to change its settings. With the embedded worker (the default)
    it is yielded once the models are loaded."""
    port = free_port()
    settings = service_settings(
        tmp_path_factory.mktemp("api"), port, **_api_settings(request.module)
    )
    with live_api(settings, port, service_clock) as server:
        server.wait_ready()
        yield server


@pytest.fixture
def run_cli(capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Command:
    """`run_cli("record", ...)`: the `transcribe` command in this process (see commands.py)."""
    return Command(capfd, monkeypatch)


# -- lanes ------------------------------------------------------------------------------------

# Fixtures whose value is a loaded model (the `api` fixture loads both unless its module turns
# the embedded worker off).
MODEL_FIXTURES = {"transcriber", "analyzer"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        api_loads_models = "api" in used and _api_settings(getattr(item, "module", None)).get(
            "embedded_worker", True
        )
        if used & MODEL_FIXTURES or api_loads_models:
            item.add_marker(pytest.mark.model)


_unmarked_phase: list[str] = []  # the test phase now running, when its test is not `model`
_loaded_unmarked: list[str] = []  # what such a phase loaded


def _watch_loads(cls: type, what: str) -> None:
    original: Callable[..., None] = cls.__init__

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if _unmarked_phase:
            _loaded_unmarked.append(what)

    cls.__init__ = __init__


_watch_loads(Transcriber, "the Whisper model (a Transcriber)")
_watch_loads(Analyzer, "the spaCy pipeline (an Analyzer)")


def _guard(item: pytest.Item) -> Generator[None, object, object]:
    unmarked = item.get_closest_marker("model") is None
    if unmarked:
        _unmarked_phase.append(item.nodeid)
    try:
        result = yield
    finally:
        _unmarked_phase.clear()
    if _loaded_unmarked:
        loaded = sorted(set(_loaded_unmarked))
        _loaded_unmarked.clear()
        pytest.fail(
            f"{item.nodeid} loads {' and '.join(loaded)} but is not marked `model`: "
            "use the transcriber/analyzer/api fixture or add pytest.mark.model",
            pytrace=False,
        )
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _guard(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _guard(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, object, object]:
    return (yield from _guard(item))

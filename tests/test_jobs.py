"""The queue's threads: they run below the process's priority, so live legs come first."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from transcribe.jobs import BACKGROUND_NICE, run_in_background


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_background_threads_yield_the_cpu_and_nothing_else_does() -> None:
    def nice_of(tid: int) -> int:
        return os.getpriority(os.PRIO_PROCESS, tid)

    main = threading.get_native_id()
    before = nice_of(main)
    seen: dict[str, int] = {}

    def note(name: str) -> None:
        seen[name] = nice_of(threading.get_native_id())

    def job() -> None:
        run_in_background()
        note("job")
        child = threading.Thread(target=note, args=("child",))  # started by a job thread
        child.start()
        child.join()

    thread = threading.Thread(target=job)
    thread.start()
    thread.join()
    assert seen == {"job": min(19, before + BACKGROUND_NICE), "child": seen["job"]}
    assert nice_of(main) == before  # the event loop's thread keeps its priority

"""The task queue and the threads that work it, the same in `serve` and in `worker`.

Huey is the queue: SQLite in the data dir by default, Redis (`TRANSCRIBE__QUEUE_URL`) when
API nodes and GPU workers are separate machines. We run its tasks with our own small loop
rather than Huey's consumer, so that it can live inside `transcribe serve` (Huey's consumer
takes over process signals) and so that both modes share one code path.

Two lanes, each a queue of its own with threads of its own: `deliver` (webhooks: seconds spent
waiting on other people's servers) apart from `render` and `transcribe` (minutes of CPU or
GPU), so that no receiver, however slow, keeps a recording from being rendered or
transcribed, and no long transcription delays a webhook.

The database, not the queue, is the source of truth: a sweeper thread regularly asks the
service for work that is due (webhook retries, transcriptions whose worker died, expired
recordings) and enqueues it again. A queue that loses a task therefore delays work; it never
loses it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from huey import RedisHuey, SqliteHuey
from huey.api import Huey, TaskWrapper

from transcribe.store.states import JobTask

log = logging.getLogger(__name__)

Handler = Callable[[str], None]

BACKGROUND_NICE = 10  # how much lower than the process the queue's threads run


def run_in_background() -> None:
    """Lower the calling thread's CPU priority (and that of threads it starts from now on):
    when the cores are busy, the process's other threads, above all the event loop taking
    live legs' audio, come before encoding and transcription. Linux only, where a thread has
    its own nice value; elsewhere (and where it is not allowed) nothing changes."""
    if not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:
        nice = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, nice + BACKGROUND_NICE))
    except OSError:
        pass


# The queues' names: Redis keys, or the `queue` column of the SQLite file both share.
WORK_QUEUE = "transcribe"
DELIVERY_QUEUE = "transcribe-deliveries"
DELIVERY_TASKS = frozenset({JobTask.DELIVER})


def make_huey(queue_url: str, data_dir: Path, name: str = WORK_QUEUE) -> Huey:
    if queue_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=queue_url, results=False)
    if queue_url:
        raise ValueError(f"TRANSCRIBE__QUEUE_URL must be a redis:// URL, not {queue_url!r}")
    data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(data_dir / "queue.db"), results=False)


class Jobs:
    """Named tasks taking one string argument (a uuid), and the threads that run them:
    `work` takes render and transcribe, `deliveries` takes deliver.

    Handlers are registered after construction (`handle`), so that what a handler needs
    can itself be given `enqueue`."""

    def __init__(self, work: Huey, deliveries: Huey) -> None:
        self.work = work
        self.deliveries = deliveries
        self._tasks: dict[JobTask, TaskWrapper] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def handle(self, task: JobTask, handler: Handler) -> None:
        queue = self.deliveries if task in DELIVERY_TASKS else self.work
        self._tasks[task] = queue.task(name=str(task))(_logged(task, handler))

    def enqueue(self, task: JobTask, argument: str) -> None:
        self._tasks[task](argument)

    def depth(self) -> int:
        """Tasks waiting in the queues."""
        return int(self.work.pending_count()) + int(self.deliveries.pending_count())

    def start(
        self,
        consumers: int,
        senders: int,
        sweep: Callable[[], None],
        sweep_interval_s: float,
    ) -> None:
        """Start `consumers` threads for render and transcribe, `senders` threads for
        webhooks, and one sweeper thread (daemon threads)."""
        for i in range(consumers):
            self._spawn(f"consumer-{i}", lambda: self._consume(self.work))
        for i in range(senders):
            self._spawn(f"webhooks-{i}", lambda: self._consume(self.deliveries))
        self._spawn("sweeper", lambda: self._sweep(sweep, sweep_interval_s))
        log.info(
            "started %d queue consumers, %d webhook senders and the sweeper", consumers, senders
        )

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads.clear()

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _consume(self, queue: Huey) -> None:
        run_in_background()
        while not self._stop.is_set():
            try:
                task = queue.dequeue()
            except Exception:
                log.exception("the queue could not be read; retrying")
                self._stop.wait(1.0)
                continue
            if task is None:
                self._stop.wait(0.05)
                continue
            queue.execute(task)

    def _sweep(self, sweep: Callable[[], None], interval_s: float) -> None:
        """Sweep at once (what a crash left is taken up as the process starts), then every
        `interval_s`."""
        run_in_background()
        while True:
            try:
                sweep()
            except Exception:
                log.exception("sweep failed; next one in %.1f s", interval_s)
            if self._stop.wait(interval_s):
                return


def _logged(task: JobTask, handler: Handler) -> Callable[[str], None]:
    """Huey swallows what a task raises into its own log; say which task and argument."""

    def run(argument: str) -> None:
        try:
            handler(argument)
        except Exception:
            log.exception("task %s(%s) failed", task, argument)

    run.__name__ = str(task)
    run.__qualname__ = str(task)
    return run

"""Background work on the task queue: rendering (`RenderJob`), transcription
(`TranscribeJob`), and the periodic `Sweeper`; `Jobs` runs them in threads."""

from transcribe.jobs.queue import (
    BACKGROUND_NICE,
    DELIVERY_QUEUE,
    Jobs,
    make_huey,
    run_in_background,
)

__all__ = ["BACKGROUND_NICE", "DELIVERY_QUEUE", "Jobs", "make_huey", "run_in_background"]

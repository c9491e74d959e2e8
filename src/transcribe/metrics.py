"""Prometheus metrics of one process: jobs, transcription time, webhook attempts, the queue."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """One registry per service instance, so several instances (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.jobs = Counter(
            "transcribe_jobs_total",
            "Queue jobs run, by task and outcome.",
            ["task", "outcome"],
            registry=self.registry,
        )
        self.transcription_seconds = Histogram(
            "transcribe_transcription_seconds",
            "Wall time of transcription jobs.",
            buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800),
            registry=self.registry,
        )
        self.audio_seconds = Counter(
            "transcribe_audio_seconds_total",
            "Seconds of audio transcribed (all channels).",
            registry=self.registry,
        )
        self.webhook_attempts = Counter(
            "transcribe_webhook_attempts_total",
            "Webhook delivery attempts, by event and outcome.",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.leg_lag = Histogram(
            "transcribe_live_leg_lag_seconds",
            "How far behind real time a live leg's audio was when the recorder took it.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5),
            registry=self.registry,
        )
        self.live_legs = Gauge(
            "transcribe_live_legs", "Live legs connected now.", registry=self.registry
        )
        self.queue_depth = Gauge(
            "transcribe_queue_depth", "Tasks waiting in the queue.", registry=self.registry
        )
        self.asr_batch_windows = Histogram(
            "transcribe_asr_batch_windows",
            "Speech windows (up to 30 s each) in each decode batch of the model.",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=self.registry,
        )
        self.asr_batch_channels = Histogram(
            "transcribe_asr_batch_channels",
            "Channel decode passes whose windows shared a decode batch (above 1 only with "
            "batching across jobs).",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=self.registry,
        )

    def track_queue_depth(self, depth: Callable[[], int]) -> None:
        self.queue_depth.set_function(lambda: float(depth()))

    def observe_asr_batch(self, windows: int, channels: int) -> None:
        """One decode batch: how many windows, from how many channel decode passes."""
        self.asr_batch_windows.observe(windows)
        self.asr_batch_channels.observe(channels)

"""The models of a worker process: Whisper (`asr`), spaCy (`analytics`) and the sentiment
scorer's lexicon (`sentiment`).

Each loads once per process, on first use or at start-up (`warm_up`), which also runs them
once so the first real job does not pay for it; `ready` and `error` feed /readyz.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

import numpy as np

from transcribe.analytics import Analyzer
from transcribe.asr import Transcriber
from transcribe.asr.transcriber import normalise_language
from transcribe.config import Settings
from transcribe.errors import TranscribeError
from transcribe.metrics import Metrics
from transcribe.sentiment.scorer import SentimentScorer

log = logging.getLogger(__name__)


class Engines:
    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self._transcriber: Transcriber | None = None
        self._analyzer: Analyzer | None = None
        self._sentiment: SentimentScorer | None = None
        self._lock = threading.Lock()
        self._warm = threading.Event()
        self.error: str | None = None

    def transcriber(self) -> Transcriber:
        """The Whisper model, loaded once per process on first use."""
        with self._lock:
            if self._transcriber is None:
                self._transcriber = Transcriber(self.settings.asr, self.metrics.observe_asr_batch)
            return self._transcriber

    def analyzer(self) -> Analyzer:
        """The spaCy step, loaded once per process on first use."""
        with self._lock:
            if self._analyzer is None:
                self._analyzer = Analyzer()
            return self._analyzer

    def sentiment(self) -> SentimentScorer:
        """The sentiment scorer (a lexicon and rules, no model), built once per process."""
        with self._lock:
            if self._sentiment is None:
                self._sentiment = SentimentScorer()
            return self._sentiment

    def warm_up(self) -> None:
        """Load both models and run them once; /readyz says why if either fails."""
        started = time.perf_counter()
        try:
            transcriber = self.transcriber()
            silence = np.zeros(16_000, np.float32)
            list(transcriber.model.transcribe(silence, language="en", vad_filter=False)[0])
            self.analyzer().analyze_texts(["Could you send me the invoice by Friday?"])
            self.sentiment().score("Thank you, that's sorted it.")
        except TranscribeError as exc:
            self.error = exc.message
            raise
        settle_heap()
        self._warm.set()
        log.info("models loaded and warm in %.2f s", time.perf_counter() - started)

    @property
    def ready(self) -> bool:
        """Both models are loaded and have run once (loading holds the GIL: not before)."""
        return self._warm.is_set()

    def check_language(self, language: str | None) -> None:
        """Refuse a language the model cannot do. An API node without the model (its workers
        have it) checks only that the code is a language; a worker refuses the rest."""
        if self.settings.embedded_worker:
            self.transcriber().check_language(language)
        else:
            normalise_language(language)


def settle_heap() -> None:
    """Take what is loaded now (the models alone are some 180,000 objects) out of the cyclic
    garbage collector's sight for good (`gc.freeze`). Otherwise every full collection walks
    all of them, a pause of over 100 ms for every thread, live legs' hand-overs included."""
    gc.collect()
    gc.freeze()

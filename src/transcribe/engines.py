"""The models of a worker process: Whisper (`asr`), spaCy (`analytics`) and the sentiment
scorer's lexicon (`sentiment`).

The main Whisper model and spaCy load once per process, on first use or at start-up
(`warm_up`), which also runs them once so the first real job does not pay for it; `ready` and
`error` feed /readyz. When the main model is English-only, the multilingual model
(`asr.multilingual_model`) takes every other language: it loads on the first job that needs
it (most deployments never do) and is then kept beside the main one.
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
from transcribe.document import DocumentWarning, TranscriptionDocument
from transcribe.errors import TranscribeError, UnsupportedLanguageError
from transcribe.languages import ENGLISH, is_english
from transcribe.metrics import Metrics
from transcribe.sentiment.annotate import add_sentiment
from transcribe.sentiment.scorer import SentimentScorer

log = logging.getLogger(__name__)


class Engines:
    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self._transcriber: Transcriber | None = None
        self._multilingual: Transcriber | None = None
        self._analyzer: Analyzer | None = None
        self._sentiment: SentimentScorer | None = None
        self._lock = threading.Lock()
        # Its own lock: jobs in English go on while the multilingual model loads.
        self._multilingual_lock = threading.Lock()
        self._warm = threading.Event()
        self.error: str | None = None

    def transcriber(self) -> Transcriber:
        """The main Whisper model, loaded once per process on first use."""
        with self._lock:
            if self._transcriber is None:
                self._transcriber = Transcriber(self.settings.asr, self.metrics.observe_asr_batch)
            return self._transcriber

    def multilingual(self) -> Transcriber:
        """The multilingual model, loaded once per process by the first job that needs it."""
        with self._multilingual_lock:
            if self._multilingual is None:
                name = self.settings.asr.multilingual_model
                if not name:
                    raise UnsupportedLanguageError(
                        "only English is transcribed here: no multilingual model is set "
                        "(TRANSCRIBE__ASR__MULTILINGUAL_MODEL)",
                        field="language",
                    )
                started = time.perf_counter()
                self._multilingual = Transcriber(
                    self.settings.asr, self.metrics.observe_asr_batch, model=name
                )
                settle_heap()
                log.info(
                    "multilingual model %s ready in %.2f s", name, time.perf_counter() - started
                )
            return self._multilingual

    def transcriber_for(self, language: str | None) -> Transcriber:
        """The model for `language` (a BCP-47 code): the main one for English, or whatever
        the language when it is multilingual itself; the multilingual one otherwise."""
        main = self.transcriber()
        if main.multilingual or normalise_language(language) in (None, ENGLISH):
            return main
        return self.multilingual()

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

    def annotate(
        self,
        document: TranscriptionDocument,
        language: str | None,
        analytics: bool,
        sentiment: bool,
    ) -> TranscriptionDocument:
        """What comes after recognition: spaCy's questions, answers and action items, and
        each sentence's sentiment when asked. Both read English only, so a transcript in
        another language keeps empty lists, and asking for its sentiment adds a warning."""
        if not is_english(language):
            if sentiment:
                message = f"sentiment analysis reads English only: not done for {language}"
                document.warnings.append(DocumentWarning(code="sentiment_skipped", message=message))
            return document
        if analytics:
            document = self.analyzer().analyze(document)
        if sentiment:
            document = add_sentiment(document, self.sentiment())
        return document

    def warm_up(self) -> None:
        """Load the main models and run them once; /readyz says why if either fails."""
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
        """Both main models are loaded and have run once (loading holds the GIL: not before).
        The multilingual model is not waited for: it loads when a job first needs it."""
        return self._warm.is_set()

    def check_language(self, language: str | None) -> None:
        """Refuse a language nothing here can transcribe: a code not in the list (wherever
        this runs), or any language but English when there is no multilingual model and
        the main model (on a worker, where it is loaded) is English-only."""
        code = normalise_language(language)
        if code in (None, ENGLISH) or self.settings.asr.multilingual_model:
            return
        if self.settings.embedded_worker:
            self.transcriber().check_language(language)


def settle_heap() -> None:
    """Take what is loaded now (the models alone are some 180,000 objects) out of the cyclic
    garbage collector's sight for good (`gc.freeze`). Otherwise every full collection walks
    all of them, a pause of over 100 ms for every thread, live legs' hand-overs included."""
    gc.collect()
    gc.freeze()

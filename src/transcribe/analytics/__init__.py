"""Call analytics with spaCy: questions, answers and action items of every sentence.

No HTTP here: `Analyzer().analyze(document)` takes a transcription document and returns it
with `questions`, `action_items` and `answers` of every sentence and the top-level
`qa_pairs` filled in. The spaCy pipeline loads once per process.
"""

from transcribe.analytics.analyzer import Analyzer, SentenceAnalysis
from transcribe.analytics.pipeline import AnalyticsModelError, load_pipeline

__all__ = ["AnalyticsModelError", "Analyzer", "SentenceAnalysis", "load_pipeline"]

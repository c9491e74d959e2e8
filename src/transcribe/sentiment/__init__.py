"""Sentiment of call sentences, offline and fast: see `scorer.py`."""

from transcribe.sentiment.scorer import NEUTRAL_BAND, SentimentScorer, default_scorer

__all__ = ["NEUTRAL_BAND", "SentimentScorer", "default_scorer"]

"""Sentiment on a transcription document: a `sentiment` for every sentence of every channel."""

from __future__ import annotations

from transcribe.document import Channel, TranscriptionDocument
from transcribe.sentiment.scorer import SentimentScorer


def add_sentiment(
    document: TranscriptionDocument, scorer: SentimentScorer
) -> TranscriptionDocument:
    """A copy of `document` whose sentences carry the score of their written text (its
    punctuation helps: "Great, another hour on hold." reads as the sarcasm it is)."""
    channels = [
        Channel(
            transcript=[
                sentence.model_copy(update={"sentiment": scorer.score(sentence.sentence)})
                for sentence in channel.transcript
            ],
            duration=channel.duration,
        )
        for channel in document.channels
    ]
    return document.model_copy(update={"channels": channels})

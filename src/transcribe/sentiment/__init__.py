"""Sentiment of call sentences, offline and fast.

`scorer.SentimentScorer` scores a sentence, `rules` holds what it knows of phone calls, and
`annotate.add_sentiment` puts the scores on a transcription document. Nothing is imported
here, so that reading `rules.NEUTRAL_BAND` (the CLI's help) does not load the lexicon.
"""

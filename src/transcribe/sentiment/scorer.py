"""Sentiment of one sentence of a call: a float in [-1, 1], negative to positive.

VADER (a rule-based lexicon scorer, MIT, its lexicon inside the package) gives the base,
and `rules.py` corrects what it misreads on the phone, in this order:

1. Politeness formulas and fillers are cut ("thank you for calling", "have a lovely day",
   "sorry to keep you waiting"): a sentence of nothing else is neutral.
2. A positive opener said on its own ("Great, ...", "oh lovely so ...") is sarcasm when what
   follows is a complaint or repeats one ("great, another hour on hold"), and a filler before
   a question ("Perfect, and your date of birth?").
3. The final clause after "but" decides when it carries a feeling ("it took a while but
   it's working now"); otherwise the whole sentence does, as VADER weighs it.
4. Phrases of complaint and of outcome become one word each with its own value ("never
   turned up", "charged twice", "not bad at all", "back to normal"), and call words get
   their call meaning (`sorted`, `refund`; `please` and `sorry` carry none).

No model, no download, no state between calls: the same text always gets the same score,
and one core scores tens of thousands of sentences a second.
"""

from __future__ import annotations

import re

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from transcribe.sentiment.rules import (
    FORMULAS,
    NEUTRAL_BAND,
    OPENER,
    PHRASES,
    SARCASM_MARKERS,
    STRONG_SARCASM,
    WORD_VALUES,
)

# A phrase is replaced by one made-up word carrying its value; VADER then weighs it like
# any word (boosters, "but", the sentence's other words).
_PHRASE_WORD = "zzphrase"
_SARCASM_VALUE = -2.0
_FAINTEST_WORD = 0.5
_QUESTION_START = re.compile(
    r"^(?:and |so |just )?(?:can|could|would|will|what|what's|which|when|where|who|who's|how"
    r"|is|are|do|does|did|have|has|may|shall)\b"
)
_BUT = re.compile(r"\b(?:but|though|although|however)\b")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})


__all__ = ["NEUTRAL_BAND", "SentimentScorer"]


class SentimentScorer:
    """Scores sentences; build one and reuse it (building it reads VADER's lexicon)."""

    def __init__(self) -> None:
        analyzer = SentimentIntensityAnalyzer()
        # VADER's faintest words are noise in a call ("number" 0.3, "want" 0.3, "pay" -0.4).
        lexicon: dict[str, float] = {
            word: value for word, value in analyzer.lexicon.items() if abs(value) >= _FAINTEST_WORD
        }
        lexicon.update(WORD_VALUES)
        # All phrases in one pattern, so a sentence is scanned once; where two could start at
        # the same place, the one listed first in `PHRASES` wins.
        alternatives = []
        for index, (pattern, value) in enumerate(PHRASES):
            word = f"{_PHRASE_WORD}{_letters(index)}"
            lexicon[word] = value
            alternatives.append(rf"(?P<{word}>(?:{pattern})\b)")
        self._phrases = re.compile(rf"\b(?:{'|'.join(alternatives)})")
        self._sarcasm = f"{_PHRASE_WORD}sarcasm"
        lexicon[self._sarcasm] = _SARCASM_VALUE
        analyzer.lexicon = lexicon
        self._vader = analyzer

    def score(self, text: str) -> float:
        """The sentence's sentiment in [-1, 1]; |score| < `NEUTRAL_BAND` is neutral."""
        clean = " ".join(text.translate(_APOSTROPHES).lower().split())
        clean = _strip_punctuation(FORMULAS.sub(",", clean))
        if not any(ch.isalpha() for ch in clean):
            return 0.0
        opener = OPENER.match(clean)
        if opener and any(ch.isalpha() for ch in clean[opener.end() :]):
            rest = _strip_punctuation(clean[opener.end() :])
            rest_score = self._clauses(rest)
            if STRONG_SARCASM.search(rest) or (
                rest_score < NEUTRAL_BAND
                and (rest_score <= -NEUTRAL_BAND or SARCASM_MARKERS.search(rest))
            ):
                return min(self._clauses(f"{self._sarcasm} {rest}"), rest_score)
            if abs(rest_score) < NEUTRAL_BAND and _is_question(rest, clean):
                return 0.0
        return self._clauses(clean)

    def _clauses(self, text: str) -> float:
        """The final clause after "but" when it carries a feeling, else the whole sentence."""
        parts = _BUT.split(text)
        if len(parts) > 1:
            last = self._compound(parts[-1])
            if abs(last) >= NEUTRAL_BAND:
                return last
        return self._compound(text)

    def _compound(self, text: str) -> float:
        text = self._phrases.sub(_phrase_word, text)
        compound = float(self._vader.polarity_scores(text)["compound"])
        return round(max(-1.0, min(1.0, compound)), 4)


def _phrase_word(match: re.Match[str]) -> str:
    return f" {match.lastgroup} "


def _is_question(rest: str, whole: str) -> bool:
    return whole.rstrip().endswith("?") or bool(_QUESTION_START.match(rest))


def _strip_punctuation(text: str) -> str:
    return text.strip(" ,.;:!-")


def _letters(number: int) -> str:
    """A number spelt in letters (VADER's tokens drop digits' meaning and short words)."""
    out = ""
    while True:
        number, digit = divmod(number, 26)
        out = chr(ord("a") + digit) + out
        if number == 0:
            return out

"""The transcription document of DESIGN.md, and how sentences are built from timed words.

Whisper hands back segments that are decoding windows, not sentences. We flatten every
segment's words and cut them again at sentence ends (terminal punctuation that is not an
abbreviation) and at long pauses, so a sentence never straddles a silence and never stops
halfway because a window ended. A sentence cut at a pause, or the last of a channel, that the
model left without a closing mark gets a full stop (in place of a trailing comma or dash): every
sentence ends with punctuation, as a reader and the analytics step expect.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    model_serializer,
)

DEFAULT_LANGUAGE = "en-US"  # when no language is asked for, as in Vonage
DOCUMENT_VERSION = "1.0.0"

# A pause this long (seconds) ends a sentence even when the model wrote no full stop.
SENTENCE_PAUSE_S = 2.0

_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "inc", "ltd", "co"}
    | {"corp", "e.g", "i.e", "a.m", "p.m", "u.s", "approx", "dept"}
)
_SENTENCE_END = re.compile(r"[.?!…]+[\"'”’)\]]*$")
_OPEN_END = re.compile(r"[\s,;:\-–—]*$")
_WORD_SPLIT = re.compile(r"[\s\-–—/]+")
_NOT_WORD = re.compile(r"[^\w'.]|_")


class Word(BaseModel):
    """One recognised word: normalised text, times in ms from the recording's start."""

    model_config = ConfigDict(extra="forbid")

    word: str
    start_time: int
    end_time: int
    confidence: float = Field(ge=0.0, le=1.0)


class Sentence(BaseModel):
    """A sentence as said on one channel, with its words and the analytics of its text."""

    model_config = ConfigDict(extra="forbid")

    sentence: str
    timestamp: int
    duration: int
    action_items: list[str] = Field(default_factory=list)
    questions: list[str] = Field(default_factory=list)
    answers: list[str] = Field(default_factory=list)
    raw_sentence: str
    words: list[Word]
    sentiment: float | None = Field(
        default=None,
        ge=-1.0,
        le=1.0,
        description="Negative to positive, only when `sentimentAnalysis` was asked",
    )

    @model_serializer(mode="wrap")
    def _sentiment_only_when_asked(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, object]:
        """A document made without `sentimentAnalysis` has no `sentiment` key at all, rather
        than `null` on every sentence."""
        data: dict[str, object] = handler(self)
        if self.sentiment is None:
            data.pop("sentiment", None)
        return data


class Channel(BaseModel):
    """Everything said on one channel; `duration` is the channel's audio length in seconds."""

    model_config = ConfigDict(extra="forbid")

    transcript: list[Sentence]
    duration: float


class SentenceRef(BaseModel):
    """A span of one sentence: `sentence` indexes `channels[channel].transcript`."""

    model_config = ConfigDict(extra="forbid")

    channel: int = Field(ge=0)
    sentence: int = Field(ge=0)
    text: str


class QAPair(BaseModel):
    """A question and the answer another speaker gave to it, filled by the analytics step."""

    model_config = ConfigDict(extra="forbid")

    question: SentenceRef
    answer: SentenceRef


class DocumentWarning(BaseModel):
    """Something that went wrong without stopping the work (a file damaged part-way): `code`
    for programs, `message` for people."""

    model_config = ConfigDict(extra="forbid")

    code: str
    message: str


class TranscriptionDocument(BaseModel):
    """What `transcription_url` returns. Extra top-level keys are allowed, never fewer."""

    model_config = ConfigDict(extra="allow")

    ver: str = DOCUMENT_VERSION
    request_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    language: str = Field(
        default=DEFAULT_LANGUAGE,
        description="The BCP-47 code asked for, as asked (the recording's view says the same)",
    )
    channels: list[Channel]
    qa_pairs: list[QAPair] = Field(default_factory=list)
    warnings: list[DocumentWarning] = Field(default_factory=list)


@dataclass(frozen=True)
class TimedWord:
    """A word as the recogniser gives it: text with its spacing and punctuation, seconds."""

    text: str
    start: float
    end: float
    probability: float


def normalise_word(text: str) -> list[str]:
    """Lower-case a recognised word and strip its punctuation.

    Hyphenated and slashed compounds become separate words ("cold-hearted" -> "cold",
    "hearted"). Apostrophes inside a word ("don't") and decimal points between digits
    ("3.5") are kept, since dropping them changes the word.
    """
    out = []
    for part in _WORD_SPLIT.split(text.lower()):
        part = _NOT_WORD.sub("", part)
        part = re.sub(r"(?<!\d)\.|\.(?!\d)", "", part).strip("'")
        if part:
            out.append(part)
    return out


def build_sentences(words: Iterable[TimedWord]) -> list[Sentence]:
    """Group a channel's words, in time order, into sentences."""
    sentences: list[Sentence] = []
    current: list[TimedWord] = []
    for word in words:
        if current and word.start - current[-1].end >= SENTENCE_PAUSE_S:
            sentences.extend(_make_sentence(current))
            current = []
        current.append(word)
        if _ends_sentence(word.text):
            sentences.extend(_make_sentence(current))
            current = []
    sentences.extend(_make_sentence(current))
    return sentences


def _ends_sentence(text: str) -> bool:
    token = text.strip()
    if not _SENTENCE_END.search(token):
        return False
    bare = token.lower().rstrip(".\"'”’)]")
    return not (token.endswith(".") and bare in _ABBREVIATIONS)


def _make_sentence(words: Sequence[TimedWord]) -> list[Sentence]:
    """One sentence from words, or none if no word survives normalisation."""
    out_words: list[Word] = []
    for w in words:
        parts = normalise_word(w.text)
        if not parts:
            continue
        start_ms, end_ms = _ms(w.start), max(_ms(w.end), _ms(w.start))
        confidence = round(min(1.0, max(0.0, w.probability)), 4)
        for part, (s, e) in zip(parts, _share(start_ms, end_ms, parts), strict=True):
            out_words.append(Word(word=part, start_time=s, end_time=e, confidence=confidence))
    if not out_words:
        return []
    text = re.sub(r"\s+", " ", "".join(w.text for w in words)).strip()
    if not _SENTENCE_END.search(text):
        text = _OPEN_END.sub("", text) + "."
    timestamp = out_words[0].start_time
    return [
        Sentence(
            sentence=text,
            timestamp=timestamp,
            duration=out_words[-1].end_time - timestamp,
            raw_sentence=" ".join(w.word for w in out_words),
            words=out_words,
        )
    ]


def _share(start_ms: int, end_ms: int, parts: Sequence[str]) -> list[tuple[int, int]]:
    """A word's span shared by its compound parts in proportion to their length, each part
    at least 1 ms long (a span too short for that is widened at its end)."""
    end_ms = max(end_ms, start_ms + len(parts))
    total = sum(len(p) for p in parts)
    bounds = [start_ms]
    offset = 0
    for k, part in enumerate(parts):
        offset += len(part)
        room_after = len(parts) - 1 - k  # at least 1 ms for each part still to come
        share = start_ms + (end_ms - start_ms) * offset // total
        bounds.append(min(max(share, bounds[-1] + 1), end_ms - room_after))
    return list(pairwise(bounds))


def _ms(seconds: float) -> int:
    return round(seconds * 1000)

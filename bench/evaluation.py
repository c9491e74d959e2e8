"""Labelled calls and the scorer that measures the analytics step against them.

Development tooling, not part of the package: `bench/analytics.py` prints its figures and
`tests/test_analytics_quality.py` holds floors on them (pytest puts bench/ on the path).
The calls live in `tests/data/calls/` (their README gives the format and the labelling guide).
Each call can be turned into a transcription document in two forms: punctuated, as written,
and unpunctuated, lower case without punctuation as ASR may give it (each sentence becomes
its `raw_sentence`). The scorer then compares what `Analyzer` put in each sentence with the
labels.

Matching rule: spans are compared by the words they cover. A predicted span matches a gold
span of the same list in the same sentence when they share at least half of the words of
each (overlap >= 0.5 x the longer span's word count), so "so when can you send it" matches
"when can you send it" but a whole long sentence does not match its short question clause.
Each gold span matches at most one prediction (greedily, best overlap first); unmatched
predictions are false positives, unmatched gold spans false negatives. Punctuation-only
tokens are not words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from transcribe.document import (
    Channel,
    QAPair,
    Sentence,
    SentenceRef,
    TranscriptionDocument,
    Word,
    normalise_word,
)

LISTS = ("questions", "action_items", "answers")
_MARK_KEYS = {"q": "questions", "x": "action_items", "a": "answers"}
_LINE = re.compile(r"^(?P<channel>\d+)(?P<interrupts>~?):\s*(?P<text>.+)$")
_TOKEN = re.compile(r"\S+")

# Simulated speaking rate and pauses for the timestamps of a labelled call.
_WORD_MS = 300
_PAUSE_IN_TURN_MS = 300
_PAUSE_BETWEEN_TURNS_MS = 600


class LabelledCallError(ValueError):
    """A labelled call file does not follow the format of tests/data/calls/README.md."""


@dataclass(frozen=True)
class CharSpan:
    """A span of a sentence's text as character offsets [start, end)."""

    start: int
    end: int


@dataclass(frozen=True)
class LabelledSentence:
    """One sentence of a labelled call, with its gold spans per list."""

    channel: int
    text: str
    interrupts: bool
    spans: dict[str, tuple[CharSpan, ...]]

    def texts(self, name: str) -> list[str]:
        return [self.text[s.start : s.end] for s in self.spans[name]]


@dataclass(frozen=True)
class LabelledCall:
    """A labelled two-party call: its sentences in the order they start."""

    name: str
    sentences: tuple[LabelledSentence, ...]

    @property
    def channels(self) -> int:
        return max(s.channel for s in self.sentences) + 1

    def unpunctuated(self) -> LabelledCall:
        """The same call as ASR without punctuation gives it, with the spans carried over."""
        return LabelledCall(self.name, tuple(_unpunctuate(s) for s in self.sentences))

    def document(self) -> TranscriptionDocument:
        """The call as a transcription document with empty analytics, timed like speech."""
        channels: list[list[Sentence]] = [[] for _ in range(self.channels)]
        clock = 0
        previous: tuple[int, int, int] | None = None  # channel, start, end
        for labelled in self.sentences:
            words = [w for token in labelled.text.split() for w in normalise_word(token)]
            if previous is None:
                start = 0
            elif labelled.interrupts:
                start = (previous[1] + previous[2]) // 2
            elif labelled.channel == previous[0]:
                start = clock + _PAUSE_IN_TURN_MS
            else:
                start = clock + _PAUSE_BETWEEN_TURNS_MS
            timed = [
                Word(
                    word=w,
                    start_time=start + i * _WORD_MS,
                    end_time=start + (i + 1) * _WORD_MS - 50,
                    confidence=1.0,
                )
                for i, w in enumerate(words)
            ]
            end = timed[-1].end_time
            channels[labelled.channel].append(
                Sentence(
                    sentence=labelled.text,
                    timestamp=start,
                    duration=end - start,
                    raw_sentence=" ".join(words),
                    words=timed,
                )
            )
            clock = max(clock, end)
            previous = (labelled.channel, start, end)
        return TranscriptionDocument(
            channels=[Channel(transcript=t, duration=clock / 1000 + 1.0) for t in channels]
        )

    def gold_pairs(self) -> list[QAPair]:
        """Each gold answer linked to the latest gold question of another channel before it."""
        indexes = _sentence_indexes(self)
        pairs = []
        for i, sentence in enumerate(self.sentences):
            for answer in sentence.texts("answers"):
                for j in range(i - 1, -1, -1):
                    asked = self.sentences[j]
                    if asked.channel != sentence.channel and asked.spans["questions"]:
                        question = asked.texts("questions")[-1]
                        pairs.append(
                            QAPair(
                                question=SentenceRef(
                                    channel=asked.channel, sentence=indexes[j], text=question
                                ),
                                answer=SentenceRef(
                                    channel=sentence.channel, sentence=indexes[i], text=answer
                                ),
                            )
                        )
                        break
        return pairs


def load_calls(folder: Path) -> list[LabelledCall]:
    """Every `*.txt` call under `folder` (recursively), in file name order."""
    return [load_call(path) for path in sorted(folder.rglob("*.txt"))]


def load_call(path: Path) -> LabelledCall:
    sentences = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise LabelledCallError(f"{path}:{number}: expected 'CH: text', got {line!r}")
        try:
            text, spans = parse_markup(match["text"])
        except LabelledCallError as exc:
            raise LabelledCallError(f"{path}:{number}: {exc}") from None
        sentences.append(
            LabelledSentence(
                channel=int(match["channel"]),
                text=text,
                interrupts=bool(match["interrupts"]),
                spans=spans,
            )
        )
    if not sentences:
        raise LabelledCallError(f"{path}: no sentences")
    return LabelledCall(path.stem, tuple(sentences))


def parse_markup(marked: str) -> tuple[str, dict[str, tuple[CharSpan, ...]]]:
    """`Sure, [x:I'll send it.]` -> the plain text and its spans per list."""
    text: list[str] = []
    found: dict[str, list[CharSpan]] = {name: [] for name in LISTS}
    open_spans: list[tuple[list[str], int]] = []
    i = 0
    while i < len(marked):
        char = marked[i]
        if char == "[":
            colon = marked.find(":", i)
            keys = marked[i + 1 : colon].split(",") if colon > 0 else []
            if not keys or any(k not in _MARK_KEYS for k in keys):
                raise LabelledCallError(f"bad label at column {i + 1} of {marked!r}")
            open_spans.append(([_MARK_KEYS[k] for k in keys], len("".join(text))))
            i = colon + 1
            continue
        if char == "]":
            if not open_spans:
                raise LabelledCallError(f"unbalanced ']' in {marked!r}")
            names, start = open_spans.pop()
            end = len("".join(text))
            for name in names:
                found[name].append(CharSpan(start, end))
        else:
            text.append(char)
        i += 1
    if open_spans:
        raise LabelledCallError(f"unclosed '[' in {marked!r}")
    plain = "".join(text)
    if plain != plain.strip() or not plain:
        raise LabelledCallError(f"sentence with stray spaces or empty: {marked!r}")
    return plain, {
        name: tuple(sorted(spans, key=lambda s: s.start)) for name, spans in found.items()
    }


def _unpunctuate(sentence: LabelledSentence) -> LabelledSentence:
    """Normalise every token; a span covers the normalised words of the tokens it touched."""
    words: list[str] = []
    token_words: list[tuple[int, int, int, int]] = []  # token start/end, first/last+1 word
    for token in _TOKEN.finditer(sentence.text):
        parts = normalise_word(token.group())
        token_words.append((token.start(), token.end(), len(words), len(words) + len(parts)))
        words.extend(parts)
    offsets = []
    position = 0
    for w in words:
        offsets.append((position, position + len(w)))
        position += len(w) + 1
    text = " ".join(words)
    spans: dict[str, tuple[CharSpan, ...]] = {}
    for name, old in sentence.spans.items():
        new = []
        for span in old:
            covered = [
                (first, last)
                for start, end, first, last in token_words
                if start < span.end and end > span.start and last > first
            ]
            if covered:
                first, last = covered[0][0], covered[-1][1]
                new.append(CharSpan(offsets[first][0], offsets[last - 1][1]))
        spans[name] = tuple(new)
    return LabelledSentence(sentence.channel, text, sentence.interrupts, spans)


def _sentence_indexes(call: LabelledCall) -> list[int]:
    """For each sentence of the call, its index within its channel's transcript."""
    counts = [0] * call.channels
    out = []
    for sentence in call.sentences:
        out.append(counts[sentence.channel])
        counts[sentence.channel] += 1
    return out


@dataclass
class Score:
    """True positives, false positives and false negatives of one list."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: Score) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn


@dataclass(frozen=True)
class Mistake:
    """A false positive or a false negative, for reading what the rules get wrong."""

    call: str
    list_name: str
    kind: str  # "missed" or "extra"
    sentence: str
    span: str


@dataclass
class Report:
    """Scores per list (and for qa_pairs) over a set of calls, with the mistakes."""

    scores: dict[str, Score] = field(default_factory=lambda: {n: Score() for n in LISTS})
    pairs: Score = field(default_factory=Score)
    mistakes: list[Mistake] = field(default_factory=list)
    sentences: int = 0
    words: int = 0


def score_call(call: LabelledCall, predicted: TranscriptionDocument, report: Report) -> None:
    """Add one analysed call (the document `call.document()` gave, analysed) to `report`."""
    indexes = _sentence_indexes(call)
    for labelled, index in zip(call.sentences, indexes, strict=True):
        got = predicted.channels[labelled.channel].transcript[index]
        report.sentences += 1
        report.words += len(_words(labelled.text, 0, len(labelled.text)))
        for name in LISTS:
            gold = [_words(labelled.text, s.start, s.end) for s in labelled.spans[name]]
            pred_texts: list[str] = getattr(got, name)
            pred = [_locate(labelled.text, p) for p in pred_texts]
            matched_gold, matched_pred = match_spans(gold, pred)
            score = report.scores[name]
            score.tp += len(matched_gold)
            score.fn += len(gold) - len(matched_gold)
            score.fp += len(pred) - len(matched_pred)
            for g, span in enumerate(labelled.texts(name)):
                if g not in matched_gold:
                    report.mistakes.append(Mistake(call.name, name, "missed", labelled.text, span))
            for p, span in enumerate(pred_texts):
                if p not in matched_pred:
                    report.mistakes.append(Mistake(call.name, name, "extra", labelled.text, span))
    gold_pairs = {_pair_key(p) for p in call.gold_pairs()}
    got_pairs = {_pair_key(p) for p in predicted.qa_pairs}
    report.pairs.tp += len(gold_pairs & got_pairs)
    report.pairs.fp += len(got_pairs - gold_pairs)
    report.pairs.fn += len(gold_pairs - got_pairs)


def match_spans(gold: Sequence[set[int]], pred: Sequence[set[int]]) -> tuple[set[int], set[int]]:
    """Indexes of the gold and predicted spans matched one to one by the overlap rule."""
    candidates = []
    for g, gw in enumerate(gold):
        for p, pw in enumerate(pred):
            shared = len(gw & pw)
            longest = max(len(gw), len(pw))
            if longest and shared >= 0.5 * longest:
                candidates.append((shared / longest, g, p))
    matched_gold: set[int] = set()
    matched_pred: set[int] = set()
    for _, g, p in sorted(candidates, reverse=True):
        if g not in matched_gold and p not in matched_pred:
            matched_gold.add(g)
            matched_pred.add(p)
    return matched_gold, matched_pred


def _pair_key(pair: QAPair) -> tuple[int, int, int, int]:
    return (
        pair.question.channel,
        pair.question.sentence,
        pair.answer.channel,
        pair.answer.sentence,
    )


def _words(text: str, start: int, end: int) -> set[int]:
    """Indexes of the word tokens of `text` that overlap [start, end)."""
    return {
        i
        for i, token in enumerate(t for t in _TOKEN.finditer(text) if normalise_word(t.group()))
        if token.start() < end and token.end() > start
    }


def _locate(text: str, span: str) -> set[int]:
    """The words of a predicted span: its first occurrence in the sentence."""
    start = text.find(span)
    if start < 0:
        return set()
    return _words(text, start, start + len(span))

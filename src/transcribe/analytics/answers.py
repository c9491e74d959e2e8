"""Answers: the reply another speaker gave to a question asked just before.

Sentences of every channel are put on one timeline by start time. A question stays open for
`ANSWER_WINDOW_MS` after it ends; the first sentence of another channel that says something
(not only "let me check" or "hold on", and not only a question back) answers the most recent
open question of another channel. A clarifying question back leaves the first question open,
so "Is the email on file still good?" / "The yahoo one?" / "Yes." / "Yeah, that's still good."
links the last sentence to the first question. A question is dropped once its asker has gone
on for `MAX_ASKER_FOLLOWUPS` sentences without a reply, or asks a new one.

In a mono recording every sentence is on one channel and turns are unknown: the first
sentence after a question that says something is taken as its answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from spacy.tokens import Doc

from transcribe.analytics.text import FILLERS, trim

TokenRange = tuple[int, int]

ANSWER_WINDOW_MS = 30_000
MAX_ASKER_FOLLOWUPS = 2

# Phrases that hold the floor while the speaker finds the answer.
_STALLS = (
    ("let", "me", "check"),
    ("let", "me", "see"),
    ("let", "me", "look"),
    ("let", "me", "have", "a", "look"),
    ("let", "me", "think"),
    ("let", "me", "find", "out"),
    ("let", "'s", "see"),
    ("give", "me", "a", "second"),
    ("give", "me", "a", "sec"),
    ("give", "me", "a", "moment"),
    ("give", "me", "a", "minute"),
    ("give", "me", "one", "second"),
    ("one", "second"),
    ("one", "sec"),
    ("one", "moment"),
    ("just", "a", "second"),
    ("just", "a", "moment"),
    ("hold", "on"),
    ("hang", "on"),
    ("bear", "with", "me"),
    ("good", "question"),
)
# A comma followed by one of these starts an aside after the answer proper.
_ASIDE_MARKERS = frozenset({"so", "which", "because", "when", "otherwise", "though"})
# ", and" before one of these starts a new statement once the answer has said something.
_NEW_SUBJECTS = frozenset({"i", "we", "it", "they", "you", "he", "she"})
# Acknowledgements that only hold the floor; before a stall they are not an answer.
_ANSWER_FILLERS = FILLERS | {"okay", "ok", "alright"}


@dataclass(frozen=True)
class Said:
    """One sentence on the call's timeline, as the answer linker needs it."""

    channel: int
    index: int
    start_ms: int
    end_ms: int
    question: str | None  # the last question asked in it
    answer: str | None  # what it would say as an answer, None if it says nothing


@dataclass(frozen=True)
class Link:
    question: Said
    answer: Said


def answer_part(doc: Doc, questions: list[TokenRange]) -> TokenRange | None:
    """The part of a sentence that can answer: before its first question, without fillers,
    stalls and a trailing aside. None when nothing is left ("Hold on.", "Um, which one?")."""
    end = questions[0][0] if questions else len(doc)
    start = _skip_fillers_and_stalls(doc, 0, end)
    for i in range(start + 1, end - 1):
        if doc[i].text != ",":
            continue
        nxt = doc[i + 1].lower_
        said = sum(1 for t in doc[start:i] if not t.is_punct)
        if nxt in _ASIDE_MARKERS or (said >= 3 and nxt == "and" and _pronoun_at(doc, i + 2)):
            end = i
            break
    start, end = trim(doc, start, end)
    return (start, end) if start < end else None


def _pronoun_at(doc: Doc, i: int) -> bool:
    return i < len(doc) and doc[i].lower_ in _NEW_SUBJECTS


def _skip_fillers_and_stalls(doc: Doc, start: int, end: int) -> int:
    i = start
    while i < end:
        if doc[i].is_punct or doc[i].lower_ in _ANSWER_FILLERS:
            i += 1
            continue
        stall = _stall_at(doc, i, end)
        if stall == i:
            break
        i = stall
    return i


def _stall_at(doc: Doc, i: int, end: int) -> int:
    """The index after a stall phrase at i that is followed by a pause (punctuation, a
    filler or the end), else i."""
    words = [t.lower_ for t in doc[i:end]]
    for phrase in _STALLS:
        n = len(phrase)
        if tuple(words[:n]) == phrase:
            after = i + n
            if after >= end or doc[after].is_punct or doc[after].lower_ in FILLERS:
                return after
    return i


def link_answers(timeline: list[Said], mono: bool) -> list[Link]:
    """Pair each answering sentence with the open question it replies to."""
    links: list[Link] = []
    open_questions: list[Said] = []
    followups: dict[tuple[int, int], int] = {}
    for said in sorted(timeline, key=lambda s: (s.start_ms, s.channel)):
        open_questions = [q for q in open_questions if said.start_ms - q.end_ms <= ANSWER_WINDOW_MS]
        if said.answer is not None:
            others = [q for q in open_questions if mono or q.channel != said.channel]
            if others:
                asked = others[-1]
                links.append(Link(asked, said))
                open_questions = [
                    q
                    for q in open_questions
                    if q is not asked
                    and not (q.channel == asked.channel and q.start_ms <= asked.start_ms)
                ]
        if not mono and said.question is None:
            for q in open_questions:
                if q.channel == said.channel:
                    followups[q.channel, q.index] = followups.get((q.channel, q.index), 0) + 1
            open_questions = [
                q
                for q in open_questions
                if followups.get((q.channel, q.index), 0) <= MAX_ASKER_FOLLOWUPS
            ]
        if said.question is not None:
            open_questions = [q for q in open_questions if q.channel != said.channel]
            open_questions.append(said)
    return links

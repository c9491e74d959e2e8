"""What the three detectors share: pieces of a sentence, clause starts, and filler words.

ASR text is the input, so nothing here trusts punctuation to exist: a sentence is cut into
pieces at the strong punctuation it has (none in lower-case ASR output), and where a clause
starts is read from the dependency parse as well as from commas.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from spacy.tokens import Doc, Span, Token

# Words a speaker puts before what they mean: skipped when looking for the start of a clause.
DISCOURSE = frozenset(
    {"um", "uh", "er", "erm", "ah", "oh", "hmm", "mm", "mhm", "well", "so", "and", "but", "or"}
    | {"okay", "ok", "alright", "now", "then", "also", "sorry", "hi", "hey", "hello", "like"}
    | {"actually", "anyway", "wait", "great", "perfect", "right", "cool", "yeah", "yes", "no"}
    | {"sure", "awesome", "oops"}
)
# Fillers with no meaning of their own, stripped from the front of an answer.
FILLERS = frozenset(
    {"um", "uh", "er", "erm", "ah", "oh", "hmm", "mm", "mhm", "well", "hi", "hey", "hello"}
    | {"like", "so", "and", "but"}
)
STRONG_PUNCT = frozenset({".", "!", "?", ";", "…"})

# The auxiliaries that invert with their subject in a yes/no or wh question.
AUXILIARIES = frozenset(
    {"is", "are", "was", "were", "am", "'s", "'re", "do", "does", "did", "have", "has", "had"}
    | {"can", "could", "would", "will", "should", "shall", "may", "might", "must", "ca", "wo"}
)
WH_WORDS = frozenset({"what", "when", "where", "which", "who", "whom", "whose", "why", "how"})
SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass", "expl", "csubj"})
CLAUSE_DEPS = frozenset({"ROOT", "conj", "ccomp", "advcl", "parataxis", "xcomp", "relcl"})


@dataclass(frozen=True)
class Piece:
    """Tokens [start, end) of a sentence up to and including one strong punctuation mark."""

    start: int
    end: int
    final: str  # the closing mark ("?", ".", ...) or "" when the piece has none


def pieces(doc: Doc) -> Iterator[Piece]:
    """Cut a sentence at its strong punctuation; text with none is a single piece."""
    start = 0
    for token in doc:
        if token.text in STRONG_PUNCT or (token.is_punct and token.text.endswith("?")):
            if token.i > start:
                yield Piece(start, token.i + 1, token.text[-1])
            start = token.i + 1
    if start < len(doc):
        yield Piece(start, len(doc), "")


def piece_end(doc: Doc, i: int) -> int:
    """Where the piece holding token i ends (after its strong punctuation, if any)."""
    for token in doc[i:]:
        if token.text in STRONG_PUNCT or (token.is_punct and token.text.endswith("?")):
            return token.i + 1
    return len(doc)


def parts(doc: Doc, piece: Piece) -> list[tuple[int, int]]:
    """The comma-separated parts of a piece as token ranges, punctuation left out."""
    out = []
    start = piece.start
    for i in range(piece.start, piece.end):
        if doc[i].is_punct:
            if i > start:
                out.append((start, i))
            start = i + 1
    if start < piece.end:
        out.append((start, piece.end))
    return out


def skip_discourse(doc: Doc, start: int, end: int) -> int:
    """The first token in [start, end) that is not a discourse word or punctuation."""
    i = start
    while i < end and (doc[i].is_punct or doc[i].lower_ in DISCOURSE or doc[i].tag_ == "UH"):
        i += 1
    return i


def is_verb(token: Token) -> bool:
    """A verb or auxiliary by its fine-grained tag (the pipeline runs without the attribute
    ruler that would map tags to coarse parts of speech: it cost a third of the time)."""
    return token.tag_.startswith("VB") or token.tag_ == "MD"


def has_neg(token: Token) -> bool:
    return any(child.dep_ == "neg" for child in token.children)


def subject(token: Token) -> Token | None:
    for child in token.children:
        if child.dep_ in SUBJECT_DEPS:
            return child
    return None


def trim(doc: Doc, start: int, end: int, keep_question_mark: bool = False) -> tuple[int, int]:
    """Shrink a token range so it neither starts nor ends on punctuation."""
    while start < end and doc[start].is_punct:
        start += 1
    while end > start and doc[end - 1].is_punct:
        if keep_question_mark and doc[end - 1].text.endswith("?"):
            break
        end -= 1
    return start, end


def char_span(doc: Doc, start: int, end: int) -> tuple[int, int]:
    """Character offsets of tokens [start, end) in the sentence's text."""
    span: Span = doc[start:end]
    return span.start_char, span.end_char

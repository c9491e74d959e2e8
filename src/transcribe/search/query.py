"""The search syntax, and the words of a text as the search compares them.

`tokenize` is the one definition of a word for the index, the query and the highlighter: a
run of letters and digits, lower-cased (case-folded), accents dropped. Everything else
separates words, so "Follow-up" is the words `follow up` and "don't" is `don t`, in the index
and in a query alike. The databases' own tokenizers only ever see these words, one space
apart, so SQLite and PostgreSQL find the same sentences.

`parse_query` reads `q`: words (all must match), `"a quoted phrase"` (its words in order,
next to each other) and `word*` (a prefix); a `*` after a phrase makes its last word a prefix.
There are no operators: a term that starts with anything but a letter or digit (`-x`, `+x`,
`(x`, `:x`), a parenthesis outside quotes or a `*` anywhere but at the end of a term is refused
rather than read as a word, since whoever typed it meant something this search does not do.
Inside quotes punctuation is just text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from transcribe.limits import MAX_SEARCH_TERMS, MIN_SEARCH_PREFIX_CHARS

_WORD = re.compile(r"[^\W_]+")
_OPERATORS = "()"


class SentenceKind(StrEnum):
    """What the analytics step found in a sentence (`?kind=`)."""

    QUESTION = "question"
    ANSWER = "answer"
    ACTION_ITEM = "action_item"


class QueryError(ValueError):
    """`q` does not follow the syntax; the message says where and why."""


@dataclass(frozen=True)
class Token:
    """A word as the search compares it, and where it stands in the original text."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Term:
    """Words that must appear in this order, next to each other; `prefix`: the last one
    only has to start with its text."""

    words: tuple[str, ...]
    prefix: bool


def tokenize(text: str) -> list[Token]:
    """The words of `text` with their character spans (a letter that folds into two words,
    which some compatibility characters do, gives both the same span)."""
    tokens: list[Token] = []
    for match in _WORD.finditer(text):
        word = match.group()
        if word.isascii():  # the common case, and nothing to fold but case
            tokens.append(Token(word.lower(), match.start(), match.end()))
            continue
        folded = unicodedata.normalize("NFKD", word).casefold()
        folded = "".join(c for c in folded if not unicodedata.combining(c))
        tokens.extend(Token(word, match.start(), match.end()) for word in _WORD.findall(folded))
    return tokens


def index_terms(text: str) -> str:
    """What the full-text index holds for a sentence: its words, one space apart."""
    return " ".join(token.text for token in tokenize(text))


def parse_query(q: str) -> list[Term]:
    """The terms of `q`, all of which a sentence must match; QueryError when `q` breaks the
    syntax (empty, an unclosed quote, an operator, a short or misplaced `*`, too many terms)."""
    terms: list[Term] = []
    position = 0
    while True:
        while position < len(q) and q[position].isspace():
            position += 1
        if position == len(q):
            break
        if q[position] == '"':
            close = q.find('"', position + 1)
            if close < 0:
                raise QueryError(f"the quote at character {position + 1} is never closed")
            inside = q[position + 1 : close]
            position = close + 1
            prefix = position < len(q) and q[position] == "*"
            position += prefix
            if position < len(q) and not q[position].isspace():
                raise QueryError(f'put a space after the phrase "{inside}"')
            terms.append(_phrase(inside, prefix))
        else:
            end = position
            while end < len(q) and not q[end].isspace() and q[end] != '"':
                end += 1
            if end < len(q) and q[end] == '"':
                raise QueryError(f"put a space before the quote at character {end + 1}")
            terms.append(_word(q[position:end]))
            position = end
    if not terms:
        raise QueryError("give at least one word to search for")
    if len(terms) > MAX_SEARCH_TERMS:
        raise QueryError(f"{len(terms)} terms; at most {MAX_SEARCH_TERMS} are searched at once")
    return terms


def _phrase(inside: str, prefix: bool) -> Term:
    if "*" in inside:
        raise QueryError(f'"{inside}": a * may follow the closing quote, not stand inside it')
    words = tuple(token.text for token in tokenize(inside))
    if not words:
        raise QueryError(f'"{inside}": the phrase has no words')
    return _checked(Term(words, prefix), f'"{inside}"*')


def _word(text: str) -> Term:
    prefix = text.endswith("*")
    body = text[:-1] if prefix else text
    if not body:
        raise QueryError("a * must end a word, as in refund*")
    if "*" in body:
        raise QueryError(f"{text}: a * may only end a word")
    if not body[0].isalnum():
        raise QueryError(
            f"{text}: a word must start with a letter or digit "
            '(search has no operators; quote a phrase with "...")'
        )
    if any(c in body for c in _OPERATORS):
        raise QueryError(f"{text}: parentheses are not part of the search syntax")
    words = tuple(token.text for token in tokenize(body))
    if not words:  # a letter no normalisation keeps; not met in practice
        raise QueryError(f"{text}: no word in it can be searched for")
    return _checked(Term(words, prefix), text)


def _checked(term: Term, written: str) -> Term:
    if term.prefix and len(term.words) == 1 and len(term.words[0]) < MIN_SEARCH_PREFIX_CHARS:
        raise QueryError(
            f"{written}: a prefix needs at least {MIN_SEARCH_PREFIX_CHARS} letters before the *"
        )
    return term

"""A found sentence as a snippet safe to put in HTML: its text escaped, every match of the
query in `<mark>`, and a long sentence cut to `SNIPPET_WORDS` words around the first match.

Matches are found again here, on the same words the index holds (`query.tokenize`), so the
marks cover exactly what the database matched, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from transcribe.limits import SNIPPET_WORDS
from transcribe.search.query import Term, Token, tokenize

ELLIPSIS = "…"


def snippet(sentence: str, terms: Sequence[Term]) -> str:
    tokens = tokenize(sentence)
    spans = _merged(span for term in terms for span in _matches(tokens, term))
    first, last = 0, len(tokens)
    if len(tokens) > SNIPPET_WORDS:
        hit = next((i for i, t in enumerate(tokens) if spans and t.start >= spans[0][0]), 0)
        first = max(0, min(hit - SNIPPET_WORDS // 4, len(tokens) - SNIPPET_WORDS))
        last = first + SNIPPET_WORDS
    start = tokens[first].start if first > 0 else 0
    end = tokens[last - 1].end if last < len(tokens) else len(sentence)
    out = [ELLIPSIS + " "] if first > 0 else []
    position = start
    for mark_start, mark_end in spans:
        if mark_end <= start or mark_start >= end:
            continue
        mark_start, mark_end = max(mark_start, start), min(mark_end, end)
        out.append(html.escape(sentence[position:mark_start]))
        out.append(f"<mark>{html.escape(sentence[mark_start:mark_end])}</mark>")
        position = mark_end
    out.append(html.escape(sentence[position:end]))
    if last < len(tokens):
        out.append(" " + ELLIPSIS)
    return "".join(out)


def _matches(tokens: Sequence[Token], term: Term) -> list[tuple[int, int]]:
    """The character spans where `term`'s words stand in order, next to each other."""
    size = len(term.words)
    found = []
    for i in range(len(tokens) - size + 1):
        window = tokens[i : i + size]
        exact = all(t.text == w for t, w in zip(window[:-1], term.words[:-1], strict=True))
        last, word = window[-1].text, term.words[-1]
        if exact and (last.startswith(word) if term.prefix else last == word):
            found.append((window[0].start, window[-1].end))
    return found


def _merged(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans sorted, overlapping ones joined (terms may match the same words)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged

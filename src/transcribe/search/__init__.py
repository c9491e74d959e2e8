"""Full-text search over an application's transcripts (GET /v1/search): the syntax and the
words it compares (`query`), the index kept with the transcripts and the search itself
(`index`), and the highlighted snippet of each sentence found (`snippet`)."""

from transcribe.search.index import Search, forget, index_transcript, sentence_rows
from transcribe.search.query import QueryError, SentenceKind, Term, parse_query, tokenize

__all__ = [
    "QueryError",
    "Search",
    "SentenceKind",
    "Term",
    "forget",
    "index_transcript",
    "parse_query",
    "sentence_rows",
    "tokenize",
]

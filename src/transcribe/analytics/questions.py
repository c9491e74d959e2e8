"""Questions: requests for information or confirmation addressed to the other party.

Two kinds of evidence, because ASR may or may not punctuate:

- A question mark. The span is the piece it closes, from the last comma-separated part that
  opens like a question ("..., is that right?" -> "is that right?") or, for a declarative
  said as a question ("So it's not my router?") or a tag question ("..., right?"), the whole
  piece. A trailing "you know?" is a filler, not a question.
- Syntax, where there is no question mark: an auxiliary before its subject at the start of a
  clause ("can you send it", "is that right", "so when can you send it", "what's the best
  email"), or a clause closed by a confirming tag ("you're in chicago right"). A reported
  question ("she asked whether it shipped") has no inversion, and a free relative ("what I
  need is ...") puts the subject first, so neither counts.

Declaratives said as questions without a question mark ("so it's not my router") carry no
mark in the text and are missed: the benchmark counts them.
"""

from __future__ import annotations

from spacy.tokens import Doc, Token

from transcribe.analytics.text import (
    AUXILIARIES,
    DISCOURSE,
    SUBJECT_DEPS,
    WH_WORDS,
    Piece,
    is_verb,
    parts,
    pieces,
    skip_discourse,
    subject,
)

TokenRange = tuple[int, int]

# A last comma-separated part that turns the statement before it into a question.
_CONFIRMING_TAGS = frozenset({"right", "correct", "yeah", "okay", "ok", "yes", "no", "huh", "eh"})
# A last part that is a filler, not a question ("the price went up again, you know?").
_FILLER_TAGS = (("you", "know"), ("i", "mean"), ("know", "what", "i", "mean"))
# Tokens that may stand between a wh-word and its auxiliary ("how many people are ...").
_WH_MODIFIER_TAGS = frozenset({"NN", "NNS", "JJ", "RB", "CD", "DT", "JJR", "RBR"})
# An auxiliary after these is not a question ("here is", "neither can we").
_NOT_QUESTION_BEFORE_AUX = frozenset({"here", "there", "neither", "nor"})
# Words that may stand between an inverted auxiliary and its subject ("is now a good time").
_BETWEEN_AUX_AND_SUBJECT = frozenset({"n't", "not", "now", "still", "also", "really", "just"})
# What may follow a clause-initial auxiliary in a question: the start of its subject.
_SUBJECT_START_TAGS = frozenset(
    {"PRP", "EX", "DT", "NN", "NNS", "NNP", "NNPS", "PRP$", "CD", "RB", "JJ", "PDT"}
)
# "do" and "have" as main verbs at the start are orders or wishes ("do that", "have a good one").
_MAIN_VERB_AUXILIARIES = frozenset({"do", "does", "did", "have", "has", "had"})
_FINITE_TAGS = frozenset({"VBZ", "VBD", "VBP", "MD"})
_OBJECT_PRONOUNS = frozenset({"me", "him", "her", "us", "them"})
# Left dependents of a clause's verb that may stand before its inverted auxiliary.
_LEFT_OK_DEPS = frozenset(
    {"advcl", "ccomp", "parataxis", "conj", "cc", "intj", "npadvmod", "dep", "punct", "prep"}
    | {"mark", "discourse", "advmod", "attr", "dobj"}
)
# The word before a final "right" that makes it an answer, not a tag ("that's right").
_RIGHT_AS_ADJECTIVE = frozenset({"'s", "is", "that", "all", "exactly", "'re", "are", "was"})


def find_questions(doc: Doc) -> list[TokenRange]:
    """Token ranges of the questions of one sentence, in order, not overlapping."""
    found: list[TokenRange] = []
    for piece in pieces(doc):
        if piece.final == "?":
            span = _marked_question(doc, piece)
            if span is not None:
                found.append(span)
        else:
            found.extend(_unmarked_questions(doc, piece))
    return _without_overlaps(found)


def opens_question(doc: Doc, i: int) -> bool:
    """Does a question start at token i: a wh-word, or an auxiliary before its subject?"""
    token = doc[i]
    if token.lower_ in WH_WORDS:
        return True
    return _inverted(token)


def _marked_question(doc: Doc, piece: Piece) -> TokenRange | None:
    piece_parts = parts(doc, piece)
    if not piece_parts:
        return None
    last_start, last_end = piece_parts[-1]
    last_words = tuple(t.lower_ for t in doc[last_start:last_end])
    if last_words in _FILLER_TAGS:
        return None
    first = skip_discourse(doc, piece.start, piece.end - 1)
    if first >= piece.end - 1:
        first = piece.start
    if len(piece_parts) > 1 and len(last_words) == 1 and last_words[0] in _CONFIRMING_TAGS:
        return first, piece.end
    for start, end in reversed(piece_parts):
        i = skip_discourse(doc, start, end)
        if i < end and opens_question(doc, i):
            return i, piece.end
    return first, piece.end


def _unmarked_questions(doc: Doc, piece: Piece) -> list[TokenRange]:
    found = []
    for i in range(piece.start, piece.end):
        token = doc[i]
        if token.lower_ not in AUXILIARIES:
            continue
        start = _wh_phrase_start(doc, i, piece.start)
        if start < 0:
            continue
        first = _first_in_piece(doc, piece, start)
        if not (_inverted(token) or (first and _opens_with_auxiliary(token))):
            continue
        if not (first or _clause_starts_at(doc, start, token, piece.start)):
            continue
        found.append((start, _clause_end(doc, piece, _clause_head(token), token)))
    found.extend(_wh_subject_questions(doc, piece))
    for extra in (_question_fragment(doc, piece), _confirming_tag(doc, piece)):
        if extra is not None:
            found.append(extra)
    return _join_alternatives(doc, sorted(found))


def _clause_head(token: Token) -> Token:
    """The verb whose clause an auxiliary belongs to (itself when it is the main verb)."""
    if token.dep_ == "ROOT" or (token.dep_ not in ("aux", "auxpass") and any(token.children)):
        return token
    return token.head


def _join_alternatives(doc: Doc, spans: list[TokenRange]) -> list[TokenRange]:
    """One question of two joined by fillers or a conjunction ("is video okay or do you
    want to meet in person"): the parser of unpunctuated text often splits them."""
    out: list[TokenRange] = []
    for start, end in spans:
        if (
            out
            and out[-1][1] <= start
            and all(t.lower_ in DISCOURSE or t.dep_ == "cc" for t in doc[out[-1][1] : start])
        ):
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def _first_in_piece(doc: Doc, piece: Piece, i: int) -> bool:
    """Is token i the first word of its piece or comma-part, fillers aside?"""
    before = i - 1
    if before >= piece.start and doc[before].lower_ in _NOT_QUESTION_BEFORE_AUX:
        return False
    return skip_discourse(doc, piece.start, i) == i or (
        before >= piece.start and doc[before].is_punct
    )


def _clause_end(doc: Doc, piece: Piece, head: Token, token: Token) -> int:
    end = min(piece.end, max(head.right_edge.i, token.right_edge.i) + 1)
    if piece.final and end >= piece.end - 1:
        end = piece.end
    return end


def _next_content(aux: Token) -> Token | None:
    """The token after an auxiliary, past a negation or an adverb like "now"."""
    doc = aux.doc
    nxt = aux.i + 1
    while nxt < len(doc) and doc[nxt].lower_ in _BETWEEN_AUX_AND_SUBJECT:
        nxt += 1
    return doc[nxt] if nxt < len(doc) else None


def _inverted(aux: Token) -> bool:
    """An auxiliary that comes before the subject of its clause."""
    if aux.lower_ not in AUXILIARIES:
        return False
    following = _next_content(aux)
    if following is None or following.lower_ in _OBJECT_PRONOUNS:
        return False
    head = aux if aux.dep_ not in ("aux", "auxpass") else aux.head
    subj = subject(head)
    if subj is not None and subj.i > aux.i and following.i <= subj.left_edge.i + 1:
        return True
    # The parse of text without punctuation is often off; a pronoun straight after the
    # auxiliary is inversion whatever the tree says ("could i get", "is there").
    return following.tag_ in ("PRP", "EX") or (
        following.dep_ in SUBJECT_DEPS and following.lower_ in ("that", "this", "it")
    )


def _opens_with_auxiliary(aux: Token) -> bool:
    """A clause that opens with an auxiliary before a noun phrase is a question in speech
    ("does thursday morning work", "would sometime next week work"), even when the parser,
    thrown by the missing question mark, finds no subject."""
    following = _next_content(aux)
    if following is None or following.tag_ not in _SUBJECT_START_TAGS:
        return False
    if following.lower_ in _OBJECT_PRONOUNS:
        return False
    main_verb = aux.lower_ in _MAIN_VERB_AUXILIARIES and aux.dep_ not in ("aux", "auxpass")
    return not (main_verb and following.tag_ not in ("PRP", "EX"))


def _wh_subject_questions(doc: Doc, piece: Piece) -> list[TokenRange]:
    """The wh-phrase is the subject: "who handles payroll", "how many people are using it",
    "what day works better for you"."""
    found = []
    for i in range(piece.start, piece.end):
        if doc[i].lower_ not in WH_WORDS or not _first_in_piece(doc, piece, i):
            continue
        j = i + 1
        if doc[i].lower_ == "how" and j < piece.end and doc[j].lower_ in ("many", "much"):
            j += 1
        nouns = 0
        while j < piece.end and doc[j].tag_ in ("NN", "NNS", "JJ") and nouns < 3:
            j += 1
            nouns += 1
        if j >= piece.end or doc[j].tag_ not in _FINITE_TAGS or doc[j].lower_ in ("'s", "'re"):
            continue
        if nouns == 0 and doc[i].lower_ not in ("who", "what"):
            continue
        if j + 1 < piece.end and doc[j + 1].tag_ in ("PRP", "EX"):
            continue  # an inverted auxiliary: found as such
        found.append((i, _clause_end(doc, piece, _clause_head(doc[j]), doc[j])))
    return found


def _question_fragment(doc: Doc, piece: Piece) -> TokenRange | None:
    """A verbless piece that asks: "and your date of birth", "what time roughly",
    "anything else"."""
    if any(is_verb(t) for t in doc[piece.start : piece.end]):
        return None
    start = skip_discourse(doc, piece.start, piece.end)
    words = [t.lower_ for t in doc[start : piece.end] if not t.is_punct]
    if len(words) < 2:
        return None
    if words[0] in WH_WORDS or words[0] == "your" or words[:2] == ["anything", "else"]:
        return start, piece.end
    return None


def _wh_phrase_start(doc: Doc, aux_i: int, floor: int) -> int:
    """Where the question starts: the wh-word before the auxiliary, if there is one;
    -1 for a relative "which"."""
    i = aux_i - 1
    steps = 0
    while i >= floor and steps < 4:
        if doc[i].lower_ in WH_WORDS:
            # "..., which is why": a relative pronoun, not a question.
            return -1 if doc[i].lower_ == "which" and steps == 0 else i
        if doc[i].tag_ not in _WH_MODIFIER_TAGS:
            break
        i -= 1
        steps += 1
    return aux_i


def _clause_starts_at(doc: Doc, start: int, aux: Token, floor: int) -> bool:
    """Does the parse put nothing of this clause but fillers and other clauses before `start`?"""
    head = aux if aux.dep_ not in ("aux", "auxpass") else aux.head
    for child in head.children:
        if child.i >= start:
            continue
        if child.dep_ in SUBJECT_DEPS:
            # A subject before the auxiliary makes a statement, unless it is the wh-word.
            if child.tag_ not in ("WP", "WDT"):
                return False
        elif child.dep_ not in _LEFT_OK_DEPS:
            return False
    return True


def _confirming_tag(doc: Doc, piece: Piece) -> TokenRange | None:
    """`you're in chicago right`: a statement closed by a confirming 'right' or 'correct'."""
    end = piece.end - 1 if piece.final else piece.end
    last = end - 1
    if last - piece.start < 3 or doc[last].lower_ not in ("right", "correct"):
        return None
    if doc[last - 1].lower_ in _RIGHT_AS_ADJECTIVE or doc[last].dep_ in ("acomp", "attr"):
        return None
    if not any(t.dep_ in SUBJECT_DEPS for t in doc[piece.start : last]):
        return None
    return skip_discourse(doc, piece.start, last), piece.end


def _without_overlaps(spans: list[TokenRange]) -> list[TokenRange]:
    """Keep the earliest, longest span where spans overlap."""
    out: list[TokenRange] = []
    for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
        if out and start < out[-1][1]:
            continue
        out.append((start, end))
    return out

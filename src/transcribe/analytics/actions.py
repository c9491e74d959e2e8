"""Action items: what someone commits to, asks for, offers, or says must be done.

Read from the dependency parse of each clause, so they hold without punctuation:

- commitments and offers: I/we/they + will, shall, going to, can ("I'll send the invoice
  tomorrow", "we're going to book a technician", "I can waive the fee"), or I/we + a
  present progressive with "now" ("I'm blocking the card now");
- wishes and requests: I/we + would like / would love / want / need ("I'd like to book a
  cleaning", "I need you to sign it", "we need a deposit");
- obligations: you/we + need to, have to, must, should, will want to ("you'll need to bring
  your ID", "we need to update the account before the end of the month");
- imperatives and "let's" ("please call me back after lunch", "let's schedule a follow-up");
- requests asked as questions ("could you send me the invoice by Friday?", "can I get a
  refund?", "is it okay if I follow up next week?").

Left out on purpose: negated and hedged statements ("I can't refund that", "we'll probably
pack ourselves"), what was already done ("I sent it"), and the moves that keep a
conversation going rather than create work ("let me check", "hold on", "bear with me",
"can you spell that?").
"""

from __future__ import annotations

from spacy.tokens import Doc, Token

from transcribe.analytics.text import DISCOURSE, has_neg, is_verb, piece_end, subject, trim

TokenRange = tuple[int, int]

_COMMITTING_SUBJECTS = frozenset({"i", "we", "they"})
_OFFERING_SUBJECTS = frozenset({"i", "we"})
_OBLIGED_SUBJECTS = frozenset({"i", "we", "you"})
_FUTURE = frozenset({"will", "'ll", "shall", "wo"})
_ABILITY = frozenset({"can", "ca"})
_HYPOTHETICAL = frozenset({"'d", "would", "might", "could", "may"})
_BE = frozenset({"am", "'m", "are", "'re", "is", "'s"})
# Verbs that introduce the task in their infinitive ("going to send", "need to sign").
_GOING = frozenset({"going", "gon"})
_OBLIGING = frozenset({"need", "needs", "have", "has", "got", "must", "want"})
_WISHING = frozenset({"like", "love", "want", "suggest", "recommend"})
# Verbs that are not tasks: thinking, perceiving, talking, and keeping the call going.
_NOT_TASKS = frozenset(
    {"be", "see", "look", "know", "think", "guess", "hear", "understand", "mean", "imagine"}
    | {"help", "say", "wonder", "hope", "tell", "find", "receive", "like", "love", "go"}
    | {"check", "try", "hold", "wait", "bear", "hang", "worry", "mind", "remember", "ask"}
)
_CONVERSATIONAL_IMPERATIVES = frozenset(
    {"hold", "hang", "bear", "wait", "see", "have", "take", "thank", "excuse", "talk", "go"}
    | {"look", "listen", "guess", "say", "mind", "worry", "sorry", "welcome", "speak", "hear"}
    | {"tell", "pardon", "enjoy", "love", "sound", "work", "get", "got", "do", "be", "speaking"}
    | {"help", "thanks", "need"}
)
# Words before an imperative verb that keep it an imperative ("please just call me").
_BEFORE_IMPERATIVE = frozenset({"please", "just", "then", "first", "also", "and", "so", "now"})
# After "let's", these keep the conversation going rather than plan work.
_LETS_NOT_TASKS = frozenset({"see", "say", "look", "check", "take", "get", "go", "start"})
_HEDGES = frozenset({"probably", "maybe", "might", "perhaps"})
# Trailing clauses that give a reason rather than the task's who/what/when.
_REASON_MARKERS = frozenset({"because", "since", "though", "although", "as", "otherwise"})
_TRAILING_CLAUSE_DEPS = frozenset({"parataxis", "conj", "cc"})
# "can you ..." with these verbs asks for information, not for work.
_INFO_VERBS = frozenset(
    {"tell", "spell", "confirm", "hold", "check", "repeat", "say", "hear", "see", "look"}
    | {"describe", "explain", "verify", "read", "give", "be", "like", "want", "do", "have"}
    | {"remind", "find", "ask", "help", "think", "go"}
)
_INFO_NOUNS = frozenset(
    {"number", "name", "address", "email", "date", "birth", "code", "zip", "postcode"}
    | {"details", "phone", "surname", "spelling", "id", "pin", "password"}
)
_PERMISSION = frozenset({"okay", "ok", "alright", "fine", "mind", "right"})
# Adverbs between "can you" and the verb of the request ("could you just send it").
_ADVERBS = frozenset({"just", "also", "please", "maybe", "possibly", "still", "quickly"})


def find_action_items(doc: Doc, questions: list[TokenRange]) -> list[TokenRange]:
    """Token ranges of the action items of one sentence, given its questions."""
    found = [q for q in questions if is_request(doc, q)]
    asked = {i for start, end in questions for i in range(start, end)}
    for token in doc:
        if token.i in asked:
            continue
        span = _commitment(token) or _imperative(token) or _lets(token)
        if span is not None and not _hedged(doc, span):
            found.append(span)
    return _merge(found)


def is_request(doc: Doc, question: TokenRange) -> bool:
    """Does a question also ask for something to be done ("could you send me ...?")?"""
    tokens = [t for t in doc[question[0] : question[1]] if not t.is_punct]
    words = [t.lower_ for t in tokens]
    while words and words[0] in DISCOURSE:
        words, tokens = words[1:], tokens[1:]
    if len(words) < 3:
        return False
    if words[0] in ("can", "could", "would", "will") and words[1] == "you":
        verb = next((t for t in tokens[2:] if t.lower_ not in _ADVERBS), None)
        return verb is not None and verb.lower_ not in _INFO_VERBS and verb.tag_ in ("VB", "VBP")
    if words[0] in ("can", "could", "may") and words[1] in ("i", "we"):
        if words[2] not in ("get", "have"):
            return False
        obj = next((c for c in tokens[2].children if c.dep_ in ("dobj", "attr")), None)
        if obj is None or obj.lower_ in _INFO_NOUNS:
            return False
        return not any(c.lower_ == "your" for c in obj.children)
    if tokens[0].tag_ == "VB" and subject(tokens[0]) is None and _imperative(tokens[0]):
        return True  # "now try the power button again?"
    for i in range(len(words) - 2):
        if words[i] in ("want", "like") and words[i + 1] == "me" and words[i + 2] == "to":
            return True
        if (
            words[i] == "if"
            and words[i + 1] in ("i", "we")
            and any(w in _PERMISSION for w in words[:i])
        ):
            return True  # "is it okay if I follow up next week?"
    return False


def _commitment(verb: Token) -> TokenRange | None:
    """A clause whose subject takes on, wants or owes a task."""
    if not is_verb(verb) or verb.dep_ in ("aux", "auxpass"):
        return None
    governor, task = verb, verb
    if verb.dep_ == "xcomp" and verb.head.lower_ in _GOING | _OBLIGING | _WISHING:
        governor = verb.head
    elif any(c.dep_ == "xcomp" for c in verb.children) and verb.lower_ in (
        _GOING | _OBLIGING | _WISHING
    ):
        return None  # judged from its infinitive
    subj = subject(governor)
    if subj is None or subj.i > governor.i or has_neg(governor) or has_neg(task):
        return None
    if any(c.dep_ == "mark" and c.lower_ in ("if", "whether") for c in governor.children):
        return None  # a condition or an embedded question, not a commitment
    who = subj.lower_
    auxes = {c.lower_ for c in governor.children if c.dep_ in ("aux", "auxpass")}
    word = governor.lower_
    if not _is_task(task, who) and task is not governor:
        return None
    committed = False
    if governor is not task:
        if word in _GOING:
            committed = who in _COMMITTING_SUBJECTS and bool(auxes & _BE)
        elif word in _OBLIGING:
            committed = who in _OBLIGED_SUBJECTS and not auxes & _HYPOTHETICAL
        else:  # like / love / want / suggest + to
            committed = who in _OFFERING_SUBJECTS
    elif word in _WISHING and who in _OFFERING_SUBJECTS and auxes & {"'d", "would"}:
        committed = True  # "I'd like that in writing", "I'd suggest setting up autopay"
    elif not _is_task(task, who):
        return None
    elif word in ("need", "needs") and who in _OFFERING_SUBJECTS and not auxes:
        committed = True  # "we need a deposit", "I need you to sign it"
    elif auxes & _FUTURE:
        committed = who in _COMMITTING_SUBJECTS
    elif auxes & _ABILITY:
        committed = who in _OFFERING_SUBJECTS
    elif auxes & {"should", "must"}:
        committed = who in _OBLIGED_SUBJECTS
    elif auxes & _BE and task.tag_ == "VBG":
        committed = who in _OFFERING_SUBJECTS and any(
            t.lower_ in ("now", "away") for t in task.subtree
        )
    if not committed:
        return None
    return _clause_span(governor.doc, subj.left_edge.i, governor)


def _is_task(verb: Token, who: str) -> bool:
    """Is this verb work to be done, rather than thinking, perceiving or talking?"""
    word = verb.lower_
    if word == "check":  # "check with our CFO" is work; "let me check" is not
        return any(c.dep_ == "prep" and c.lower_ == "with" for c in verb.children)
    if word == "have":  # "I'll have that to you by Monday"; "they'll have the notes" is not
        return who in _OFFERING_SUBJECTS
    return word not in _NOT_TASKS


def _lets(let: Token) -> TokenRange | None:
    """ "let's schedule a follow-up": a plan both sides take on (the parse of "let's" is
    often wrong, so this reads the words)."""
    doc = let.doc
    if let.lower_ != "let" or let.i + 2 >= len(doc) or doc[let.i + 1].lower_ not in ("'s", "us"):
        return None
    if doc[let.i + 2].lower_ in _LETS_NOT_TASKS:
        return None
    if any(t.is_punct is False and t.lower_ not in DISCOURSE for t in doc[: let.i]) and not any(
        t.is_punct for t in doc[: let.i]
    ):
        return None
    end = piece_end(doc, let.i)
    for i in range(let.i + 2, end - 1):
        if doc[i].text == "," and doc[i + 1].lower_ in _REASON_MARKERS | {"so", "that", "it"}:
            end = i
            break
    return trim(doc, let.i, end)


def _imperative(verb: Token) -> TokenRange | None:
    """A clause that tells the other party to do something: no subject, a bare verb first."""
    doc = verb.doc
    if verb.tag_ != "VB" or verb.dep_ not in ("ROOT", "ccomp", "parataxis", "advcl"):
        return None
    if subject(verb) is not None:
        return None
    auxes = [c for c in verb.children if c.dep_ in ("aux", "auxpass")]
    if any(a.lower_ != "do" for a in auxes):
        return None
    start = verb.i
    while start > 0 and (
        doc[start - 1].lower_ in _BEFORE_IMPERATIVE
        or doc[start - 1].lower_ in ("do", "n't", "not", "don't")
    ):
        start -= 1
    before = start
    while before > 0 and (doc[before - 1].is_punct or doc[before - 1].lower_ in DISCOURSE):
        before -= 1
    if before > 0 and not any(t.is_punct for t in doc[before:start]):
        return None  # the verb does not start its clause
    word = verb.lower_
    nxt = doc[verb.i + 1].lower_ if verb.i + 1 < len(doc) else ""
    if word == "let":
        if nxt in ("me", "us", "'s"):
            return None  # "let me check" keeps the call going; "let's" is read by _lets
    elif word == "give":
        if nxt in ("me", "us"):
            return None  # "give me a second"
    elif word in _CONVERSATIONAL_IMPERATIVES or word in DISCOURSE:
        return None
    return _clause_span(doc, start, verb)


def _clause_span(doc: Doc, start: int, head: Token) -> TokenRange:
    """From `start` to the end of the head's clause, leaving out a trailing reason clause."""
    end = head.i + 1
    for child in head.children:
        if child.i < head.i:
            continue
        if child.dep_ in _TRAILING_CLAUSE_DEPS and subject(child) is not None:
            break
        if child.dep_ == "advcl" and child.left_edge.lower_ in _REASON_MARKERS:
            break
        if child.dep_ == "cc" and any(
            c.dep_ == "conj" and subject(c) is not None for c in head.children
        ):
            break
        end = max(end, child.right_edge.i + 1)
    end = min(end, piece_end(doc, start))
    # A comma followed by a reason or a new statement ends the task too, and so does
    # "so" + a new subject where there is no comma ("... today so you'll only need to pay").
    for i in range(head.i + 1, end - 1):
        nxt = doc[i + 1]
        if doc[i].text == "," and (
            nxt.lower_ in _REASON_MARKERS or nxt.lower_ in ("that", "it", "which")
        ):
            end = i
            break
        if (
            doc[i].lower_ in ("so", "because")
            and nxt.tag_ == "PRP"
            and nxt.dep_
            in (
                "nsubj",
                "nsubjpass",
            )
        ):
            end = i
            break
    return trim(doc, start, end)


def _hedged(doc: Doc, span: TokenRange) -> bool:
    return any(t.lower_ in _HEDGES for t in doc[span[0] : span[1]])


def _merge(spans: list[TokenRange]) -> list[TokenRange]:
    """Drop spans inside another; keep the rest in order."""
    out: list[TokenRange] = []
    for start, end in sorted(set(spans), key=lambda s: (s[0], -s[1])):
        if out and start >= out[-1][0] and end <= out[-1][1]:
            continue
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
            continue
        out.append((start, end))
    return out

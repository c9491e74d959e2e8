"""The analytics step on real spaCy output: questions, action items, answers, qa_pairs, and
the `transcribe analyze` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from transcribe.analytics import Analyzer, SentenceAnalysis
from transcribe.document import Channel, Sentence, TranscriptionDocument, Word, normalise_word

from commands import Command
from evaluation import (
    LISTS,
    CharSpan,
    LabelledCall,
    LabelledSentence,
    load_calls,
)

REPO = Path(__file__).resolve().parents[1]
CALLS_DIR = REPO / "tests" / "data" / "calls"


def analyse(analyzer: Analyzer, text: str) -> SentenceAnalysis:
    return analyzer.analyze_texts([text])[0]


def timed_document(*said: tuple[int, int, str], channels: int = 2) -> TranscriptionDocument:
    """A document from (channel, start ms, text) with 300 ms per word."""
    transcripts: list[list[Sentence]] = [[] for _ in range(channels)]
    for channel, start, text in said:
        words = [w for token in text.split() for w in normalise_word(token)]
        timed = [
            Word(word=w, start_time=start + 300 * i, end_time=start + 300 * i + 250, confidence=1)
            for i, w in enumerate(words)
        ]
        transcripts[channel].append(
            Sentence(
                sentence=text,
                timestamp=start,
                duration=timed[-1].end_time - start,
                raw_sentence=" ".join(words),
                words=timed,
            )
        )
    return TranscriptionDocument(
        channels=[Channel(transcript=t, duration=120) for t in transcripts]
    )


def turns(*said: tuple[int, str]) -> TranscriptionDocument:
    """A call from (channel, text) in order, timed like speech."""
    empty: dict[str, tuple[CharSpan, ...]] = {name: () for name in LISTS}
    sentences = tuple(LabelledSentence(c, text, False, empty) for c, text in said)
    return LabelledCall("test", sentences).document()


def pairs(doc: TranscriptionDocument) -> list[tuple[int, int, int, int]]:
    return [
        (p.question.channel, p.question.sentence, p.answer.channel, p.answer.sentence)
        for p in doc.qa_pairs
    ]


# Questions


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("Could you send me the invoice by Friday?", "Could you send me the invoice by Friday?"),
        ("Is that right?", "Is that right?"),
        ("It says forty dollars on the bill, is that right?", "is that right?"),
        ("So it's not my router?", "it's not my router?"),
        ("It's the card ending in four two, right?", "It's the card ending in four two, right?"),
        ("Hi, is this Ms. Patel?", "is this Ms. Patel?"),
        ("Did it get dropped or anything like that.", "Did it get dropped or anything like that."),
        # ASR text without punctuation or capitals
        ("so when can you send it", "when can you send it"),
        ("is that right", "is that right"),
        ("could you send me the invoice by friday", "could you send me the invoice by friday"),
        ("does thursday morning work for you", "does thursday morning work for you"),
        (
            "how many people are using it at the moment",
            "how many people are using it at the moment",
        ),
        ("what's the best email for that", "what's the best email for that"),
        ("okay and what time zone is your account set to", "what time zone is your account set to"),
        ("you're in chicago right", "you're in chicago right"),
        ("and your date of birth", "your date of birth"),
    ],
)
def test_questions_are_found_with_and_without_punctuation(
    analyzer: Analyzer, text: str, question: str
) -> None:
    assert analyse(analyzer, text).questions == [question]


@pytest.mark.parametrize(
    "text",
    [
        "And the price went up again, you know?",
        "She asked whether it shipped.",
        "she asked whether it shipped",
        "my neighbour asked me whether it got delivered to the wrong house",
        "what I need is a refund",
        "That's right, the third.",
        "that's right the third",
        "So the starter plan caps at five users, which is probably what you're running into.",
        "You're welcome, have a good one.",
        "will do",
        "I sent it yesterday.",
    ],
)
def test_fillers_reported_questions_and_statements_are_not_questions(
    analyzer: Analyzer, text: str
) -> None:
    assert analyse(analyzer, text).questions == []


# Action items


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("I will send the invoice tomorrow morning.", "I will send the invoice tomorrow morning"),
        (
            "Sure, I'll email it to you right after this call.",
            "I'll email it to you right after this call",
        ),
        ("please call me back after lunch", "please call me back after lunch"),
        (
            "We need to update the account before the end of the month.",
            "We need to update the account before the end of the month",
        ),
        ("let's schedule a follow-up on Monday", "let's schedule a follow-up on Monday"),
        (
            "I'm going to book a technician to check the line.",
            "I'm going to book a technician to check the line",
        ),
        ("You'll need to bring your ID.", "You'll need to bring your ID"),
        ("I'd like to book a cleaning, please.", "I'd like to book a cleaning, please"),
        ("Okay, I'm blocking the card now.", "I'm blocking the card now"),
        (
            "I'll raise it with the product team because it really should ask you.",
            "I'll raise it with the product team",
        ),
        (
            "Don't give him any of your own painkillers.",
            "Don't give him any of your own painkillers",
        ),
        ("i'll send the quote this afternoon", "i'll send the quote this afternoon"),
    ],
)
def test_commitments_requests_and_obligations_are_action_items(
    analyzer: Analyzer, text: str, action: str
) -> None:
    assert analyse(analyzer, text).action_items == [action]


def test_a_request_asked_as_a_question_is_both(analyzer: Analyzer) -> None:
    result = analyse(analyzer, "Could you send me the invoice by Friday?")
    assert result.questions == result.action_items == ["Could you send me the invoice by Friday?"]
    info = analyse(analyzer, "Can I get your account number?")
    assert info.questions == ["Can I get your account number?"] and info.action_items == []


@pytest.mark.parametrize(
    "text",
    [
        "I can't refund that.",
        "I sent it yesterday.",
        "Let me check.",
        "Okay, hold on.",
        "Give me two minutes.",
        "Can you spell that?",
        "We'll probably pack ourselves.",
        "You'll get a confirmation email today.",
        "Honestly, we've been wondering if we even need the analytics module.",
        "I really have to go.",
    ],
)
def test_negations_past_hedges_and_conversational_moves_are_not_action_items(
    analyzer: Analyzer, text: str
) -> None:
    assert analyse(analyzer, text).action_items == []


# Answers and qa_pairs


def test_an_answer_on_the_other_channel_is_linked_to_the_question(analyzer: Analyzer) -> None:
    doc = analyzer.analyze(turns((0, "When did the order ship?"), (1, "Um, it shipped on Monday.")))
    assert doc.channels[1].transcript[0].answers == ["it shipped on Monday"]
    assert doc.channels[0].transcript[0].questions == ["When did the order ship?"]
    assert pairs(doc) == [(0, 0, 1, 0)]
    assert doc.qa_pairs[0].question.text == "When did the order ship?"
    assert doc.qa_pairs[0].answer.text == "it shipped on Monday"


def test_a_stall_does_not_answer_and_the_reply_after_it_does(analyzer: Analyzer) -> None:
    doc = analyzer.analyze(
        turns(
            (0, "Do you know if that was ever paid?"),
            (1, "Let me look."),
            (1, "No, that one's still open."),
        )
    )
    assert doc.channels[1].transcript[0].answers == []
    assert doc.channels[1].transcript[1].answers == ["No, that one's still open"]
    assert pairs(doc) == [(0, 0, 1, 1)]


def test_a_clarifying_question_keeps_the_first_question_open(analyzer: Analyzer) -> None:
    doc = analyzer.analyze(
        turns(
            (1, "Is the email on file still good?"),
            (0, "Is it the yahoo one?"),
            (1, "Yes."),
            (0, "Yeah, that's still good."),
        )
    )
    assert pairs(doc) == [(0, 0, 1, 1), (1, 0, 0, 1)]
    assert doc.channels[0].transcript[0].answers == []


def test_the_asker_does_not_answer_their_own_question(analyzer: Analyzer) -> None:
    doc = analyzer.analyze(
        turns(
            (0, "Could you check my order?"),
            (0, "It's order one two three."),
            (1, "Sure, it shipped yesterday."),
        )
    )
    assert doc.channels[0].transcript[1].answers == []
    assert pairs(doc) == [(0, 0, 1, 0)]


def test_a_reply_long_after_the_question_is_not_an_answer(analyzer: Analyzer) -> None:
    doc = analyzer.analyze(
        timed_document((0, 0, "When did the order ship?"), (1, 60_000, "It shipped on Monday."))
    )
    assert doc.qa_pairs == []
    assert doc.channels[1].transcript[0].answers == []


def test_sentences_interleave_across_channels_by_time(analyzer: Analyzer) -> None:
    """Channel 1's reply is the first sentence of its transcript but comes after two
    questions of channel 0; it answers the later one."""
    doc = analyzer.analyze(
        timed_document(
            (0, 0, "Hi, can you hear me?"),
            (1, 2_000, "Yes, I can hear you."),
            (0, 4_000, "Great."),
            (0, 5_000, "When can you send the invoice?"),
            (1, 8_000, "Tomorrow morning."),
        )
    )
    assert pairs(doc) == [(0, 0, 1, 0), (0, 2, 1, 1)]
    assert doc.channels[1].transcript[1].answers == ["Tomorrow morning"]


def test_in_a_mono_recording_the_next_sentence_answers(analyzer: Analyzer) -> None:
    doc = analyzer.analyze(
        timed_document((0, 0, "When did it ship?"), (0, 2_000, "It shipped on Monday."), channels=1)
    )
    assert pairs(doc) == [(0, 0, 0, 1)]
    assert doc.channels[0].transcript[1].answers == ["It shipped on Monday"]


def test_analysis_replaces_what_was_there_and_leaves_the_input_alone(analyzer: Analyzer) -> None:
    doc = turns((0, "Is that right?"), (1, "Yes."))
    doc.channels[1].transcript[0].action_items = ["stale"]
    before = doc.model_dump()
    once = analyzer.analyze(doc)
    assert doc.model_dump() == before
    assert once.channels[1].transcript[0].action_items == []
    twice = analyzer.analyze(once)
    assert twice.model_dump() == once.model_dump()


# The labelled calls


def test_the_labelled_set_has_the_declared_size_in_both_forms() -> None:
    calls = load_calls(CALLS_DIR)
    assert len(calls) >= 20
    assert sum(len(c.sentences) for c in calls) >= 300
    names = " ".join(c.name for c in calls)
    for kind in ("support", "sales", "scheduling", "billing"):
        assert kind in names
    for call in calls:
        assert call.channels == 2, call.name
        plain = call.unpunctuated()
        assert len(plain.sentences) == len(call.sentences)
        for punctuated, bare in zip(call.sentences, plain.sentences, strict=True):
            assert bare.text == bare.text.lower()
            assert not any(c in bare.text for c in ",.?!;:"), bare.text
            for name in LISTS:
                assert len(bare.spans[name]) == len(punctuated.spans[name])
                for span in bare.texts(name):
                    assert span and span in bare.text
    counts = {name: sum(len(s.spans[name]) for c in calls for s in c.sentences) for name in LISTS}
    assert min(counts.values()) >= 100, counts


# The command line (run in this process: tests/commands.py)


def test_analyze_command_fills_a_document(
    tmp_path: Path, analyzer: Analyzer, run_cli: Command
) -> None:
    doc = turns(
        (0, "Could you send me the invoice by Friday?"),
        (1, "Yes, I'll send it tomorrow morning."),
    )
    doc.channels[0].transcript[0].answers = ["stale"]
    path = tmp_path / "doc.json"
    path.write_text(doc.model_dump_json())
    result = run_cli("analyze", path)
    assert result.returncode == 0, result.stderr
    out = TranscriptionDocument.model_validate(json.loads(result.stdout))
    assert out.model_dump() == analyzer.analyze(doc).model_dump()
    first, reply = out.channels[0].transcript[0], out.channels[1].transcript[0]
    assert first.questions == first.action_items == ["Could you send me the invoice by Friday?"]
    assert first.answers == []
    assert reply.answers == ["Yes, I'll send it tomorrow morning"]
    assert reply.action_items == ["I'll send it tomorrow morning"]
    assert pairs(out) == [(0, 0, 1, 0)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        (b"not json at all", "is not a transcription document"),
        (b'{"channels": 3}', "is not a transcription document: channels"),
        (b"\xff\xfe\x00garbage", "is not a transcription document"),
    ],
)
def test_analyze_command_rejects_a_bad_file_in_one_line(
    tmp_path: Path, run_cli: Command, content: bytes | None, message: str
) -> None:
    path = tmp_path / "doc.json"
    if content is not None:
        path.write_bytes(content)
    result = run_cli("analyze", path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("transcribe: error: "), result.stderr
    assert message in lines[0]

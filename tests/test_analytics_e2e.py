"""End to end: a two-channel call of synthesised speech through `transcribe file`.

Channel 0 asks two questions, channel 1 answers each and commits to sending the invoice.
The speech comes from espeak-ng (installed by `make system-deps`), the transcript from the
real tiny.en model, and the analytics from the real spaCy pipeline, so the assertions are
about where entries land, not about exact ASR wording.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf

from transcribe.audio import SAMPLE_RATE
from transcribe.document import Sentence, TranscriptionDocument

from calls import dialogue
from commands import Command

pytestmark = pytest.mark.model  # `transcribe file` loads both models


def synthesise_call(folder: Path) -> Path:
    path = folder / "call.wav"
    sf.write(path, dialogue().T, SAMPLE_RATE)
    return path


def transcribe_file(run_cli: Command, path: Path, *options: str) -> TranscriptionDocument:
    result = run_cli("file", path, *options, env={"TRANSCRIBE__ASR__DEVICE": "cpu"})
    assert result.returncode == 0, result.stderr
    return TranscriptionDocument.model_validate(json.loads(result.stdout))


def find(doc: TranscriptionDocument, channel: int, word: str) -> tuple[int, Sentence]:
    """The sentence of a channel that says `word`."""
    for index, sentence in enumerate(doc.channels[channel].transcript):
        if word in sentence.raw_sentence.split():
            return index, sentence
    raise AssertionError(f"no sentence with {word!r} on channel {channel}: {doc.channels}")


@pytest.fixture(scope="module")
def call(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesise_call(tmp_path_factory.mktemp("e2e"))


def test_questions_answers_and_commitments_land_in_the_right_sentences(
    call: Path, run_cli: Command
) -> None:
    doc = transcribe_file(run_cli, call)
    assert len(doc.channels) == 2

    ask, request = find(doc, 0, "invoice")
    commit, reply = find(doc, 1, "tomorrow")
    when, shipped_q = find(doc, 0, "ship")
    monday, shipped = find(doc, 1, "monday")

    assert len(request.questions) == 1 and "send me the invoice" in request.questions[0]
    assert len(request.action_items) == 1 and "send me the invoice" in request.action_items[0]
    assert reply.questions == [] and len(reply.answers) == 1
    assert any("send the invoice tomorrow" in a for a in reply.action_items)
    assert len(shipped_q.questions) == 1 and "order ship" in shipped_q.questions[0]
    # tiny.en may hear "it shipped" as "it's ship time": the span is the reply, whatever its words.
    assert shipped.answers and "monday" in shipped.answers[0].lower()
    assert shipped.action_items == [] and shipped.questions == []

    linked = {
        (p.question.channel, p.question.sentence, p.answer.channel, p.answer.sentence)
        for p in doc.qa_pairs
    }
    assert linked == {(0, ask, 1, commit), (0, when, 1, monday)}
    for channel in doc.channels:
        for sentence in channel.transcript:
            for entry in sentence.questions + sentence.action_items + sentence.answers:
                assert entry in sentence.sentence


def test_no_analytics_leaves_the_lists_empty(call: Path, run_cli: Command) -> None:
    doc = transcribe_file(run_cli, call, "--no-analytics")
    assert doc.qa_pairs == []
    for channel in doc.channels:
        for sentence in channel.transcript:
            assert sentence.questions == sentence.action_items == sentence.answers == []

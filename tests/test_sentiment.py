"""Sentence sentiment: scores in [-1, 1], the same every time, the phone-call readings the
issue names, the `transcribe sentiment` command on stdin, the NCCO option and the document.

The accuracy figures are bench/sentiment.py's to print; here only sentences whose sign no
reader would argue with."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transcribe.config import Settings
from transcribe.document import TimedWord, TranscriptionDocument, build_sentences
from transcribe.engines import Engines
from transcribe.errors import InvalidParametersError
from transcribe.metrics import Metrics
from transcribe.ncco import parse_record, parse_transcription
from transcribe.sentiment.annotate import add_sentiment
from transcribe.sentiment.rules import NEUTRAL_BAND
from transcribe.sentiment.scorer import SentimentScorer

from commands import Command

DATA = Path(__file__).parent / "data" / "sentiment" / "calls.tsv"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "sentiment"


@pytest.fixture(scope="module")
def scorer() -> SentimentScorer:
    return SentimentScorer()


def labelled_texts() -> list[str]:
    texts = []
    for path in (DATA, SHARED / "examples.tsv"):
        with path.open(newline="") as f:
            texts += [row["text"] for row in csv.DictReader(f, delimiter="\t")]
    return texts


ODD_TEXTS = [
    "",
    "   ",
    "?!...",
    "GREAT!!! ANOTHER HOUR ON HOLD!!!",
    "not not not bad",
    "but but but",
    "thank you " * 500,
    "terrible awful horrible worst " * 200,
    "wonderful brilliant fantastic perfect " * 200,
    "😀 😡 ☹️ 👍",
    "zzphrasea zzphrasesarcasm",  # the scorer's own made-up words, said by a caller
    "Ça marche, merci beaucoup !",
    "\x00\ufffd\u200b",
]


def test_scores_are_in_range_and_the_same_every_time(scorer: SentimentScorer) -> None:
    texts = labelled_texts() + ODD_TEXTS
    assert len(texts) > 350
    first = [scorer.score(t) for t in texts]
    again = [SentimentScorer().score(t) for t in reversed(texts)][::-1]  # another instance
    assert first == again
    assert all(isinstance(s, float) and -1.0 <= s <= 1.0 for s in first)
    # The set spans the scale: it is not a constant squeezed into range.
    assert min(first) < -0.5 and max(first) > 0.5
    assert sum(abs(s) < NEUTRAL_BAND for s in first) > 50


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_scores_in_range(text: str) -> None:
    score = _SCORER.score(text)
    assert math.isfinite(score) and -1.0 <= score <= 1.0
    assert _SCORER.score(text) == score


_SCORER = SentimentScorer()


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("not bad at all", 1),
        ("Not bad at all, actually.", 1),
        ("Great, another hour on hold.", -1),
        ("great another hour on hold", -1),
        ("Thank you for calling.", 0),
        ("thank you for calling have a nice day", 0),
        ("Sorry to keep you waiting.", 0),
        ("Can I take your postcode please?", 0),
        ("Okay, perfect, and your date of birth?", 0),
        ("The engineer never turned up.", -1),
        ("I've been charged twice this month.", -1),
        ("i'm still waiting for my refund", -1),
        ("It took a while, but it's working now.", 1),
        ("Thanks for trying, but it's still not working.", -1),
        ("Brilliant, that's sorted it, thank you so much.", 1),
        ("This is absolutely useless.", -1),
    ],
)
def test_phone_call_sentences(scorer: SentimentScorer, text: str, sign: int) -> None:
    score = scorer.score(text)
    if sign == 0:
        assert abs(score) < NEUTRAL_BAND, score
    else:
        assert score * sign >= NEUTRAL_BAND, score


def test_cli_scores_stdin_one_line_each(
    run_cli: Command, scorer: SentimentScorer, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = ["Not bad at all.", "Great, another hour on hold.", "", "Thank you for calling."]
    data = ("\n".join(lines) + "\n").encode() + b"caf\xe9 is \xff terrible\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    ran = run_cli("sentiment")
    assert ran.returncode == 0, ran.stderr
    out = ran.stdout.splitlines()
    assert len(out) == 5  # one score a line, the line that is not UTF-8 included
    scores = [float(line) for line in out]
    assert scores[:4] == [round(scorer.score(t), 4) for t in lines]
    assert scores[0] > 0 > scores[1] and scores[2] == 0 and scores[3] == 0
    assert scores[4] < 0


def test_cli_help_explains_the_scale(run_cli: Command) -> None:
    ran = run_cli("sentiment", "--help")
    assert ran.returncode == 0
    text = " ".join(ran.stdout.split())
    assert "-1 (negative) to 1 (positive)" in text and f"closer to 0 than {NEUTRAL_BAND}" in text


def test_ncco_and_upload_form_take_sentiment_analysis() -> None:
    record = parse_record({"transcription": {"sentimentAnalysis": True}})
    assert record.transcription is not None and record.transcription.sentiment_analysis
    stored = record.model_dump(by_alias=True, exclude_none=True)
    assert stored["transcription"]["sentimentAnalysis"] is True
    assert parse_record(stored) == record
    assert not parse_record({"transcription": {}}).transcription.sentiment_analysis  # type: ignore[union-attr]
    assert parse_transcription({"sentimentAnalysis": True}).sentiment_analysis
    with pytest.raises(InvalidParametersError) as caught:
        parse_record({"transcription": {"sentimentAnalysis": "yes"}})
    assert [field for field, _ in caught.value.problems] == ["transcription.sentimentAnalysis"]


def _document() -> TranscriptionDocument:
    words = [
        TimedWord(" Great,", 0.0, 0.4, 0.9),
        TimedWord(" another", 0.4, 0.8, 0.9),
        TimedWord(" hour", 0.8, 1.0, 0.9),
        TimedWord(" on", 1.0, 1.1, 0.9),
        TimedWord(" hold.", 1.1, 1.5, 0.9),
        TimedWord(" Thank", 2.0, 2.2, 0.9),
        TimedWord(" you", 2.2, 2.3, 0.9),
        TimedWord(" for", 2.3, 2.4, 0.9),
        TimedWord(" calling.", 2.4, 2.9, 0.9),
    ]
    return TranscriptionDocument.model_validate(
        {"channels": [{"transcript": build_sentences(words), "duration": 3.0}]}
    )


def test_document_has_sentiment_only_when_asked(scorer: SentimentScorer) -> None:
    plain = json.loads(_document().model_dump_json())
    assert all("sentiment" not in s for s in plain["channels"][0]["transcript"])

    scored = add_sentiment(_document(), scorer)
    data = json.loads(scored.model_dump_json())
    sentences = data["channels"][0]["transcript"]
    assert [s["sentence"] for s in sentences] == [
        "Great, another hour on hold.",
        "Thank you for calling.",
    ]
    assert sentences[0]["sentiment"] < 0 and sentences[1]["sentiment"] == 0.0
    assert TranscriptionDocument.model_validate(data) == scored  # reads back as written


def test_sentiment_of_another_language_is_a_warning_not_a_score() -> None:
    """The lexicon reads English: a Spanish transcript asked for sentiment gets no scores
    (they would all be near 0, which reads as "neutral") and a warning saying why."""
    engines = Engines(Settings(), Metrics())
    spanish = engines.annotate(_document(), "es-ES", analytics=False, sentiment=True)
    assert all(s.sentiment is None for s in spanish.channels[0].transcript)
    assert [w.code for w in spanish.warnings] == ["sentiment_skipped"]
    assert "es-ES" in spanish.warnings[0].message

    english = engines.annotate(_document(), "en-GB", analytics=False, sentiment=True)
    assert all(s.sentiment is not None for s in english.channels[0].transcript)
    assert english.warnings == []

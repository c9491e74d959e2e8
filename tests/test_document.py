"""Sentence building and word normalisation, on word sequences shaped like Whisper's output."""

from __future__ import annotations

import pytest

from transcribe.document import TimedWord, TranscriptionDocument, build_sentences, normalise_word


def _words(
    text: str, start: float = 0.0, step: float = 0.3, gap_after: dict[int, float] | None = None
) -> list[TimedWord]:
    out, t = [], start
    for i, token in enumerate(text.split(" ")):
        out.append(TimedWord(text=" " + token, start=t, end=t + step * 0.8, probability=0.9))
        t += step + (gap_after or {}).get(i, 0.0)
    return out


def test_sentences_split_on_terminal_punctuation() -> None:
    sentences = build_sentences(_words("Hello there. Can you hear me? Yes! Good."))
    assert [s.sentence for s in sentences] == ["Hello there.", "Can you hear me?", "Yes!", "Good."]
    assert sentences[1].raw_sentence == "can you hear me"
    assert sentences[1].timestamp == 600 and sentences[1].duration == 3 * 300 + 240


def test_a_sentence_spanning_two_whisper_segments_stays_one() -> None:
    # Whisper often cuts a window mid-sentence; the words simply continue.
    first = _words("I will send the invoice", start=0.0)
    second = _words("tomorrow morning.", start=1.5)
    sentences = build_sentences(first + second)
    assert [s.sentence for s in sentences] == ["I will send the invoice tomorrow morning."]


def test_abbreviations_do_not_end_sentences() -> None:
    sentences = build_sentences(_words("Mr. Dashwood called Dr. Smith at 3 p.m. today. Fine."))
    assert [s.sentence for s in sentences] == [
        "Mr. Dashwood called Dr. Smith at 3 p.m. today.",
        "Fine.",
    ]


def test_a_long_pause_ends_a_sentence_without_punctuation() -> None:
    sentences = build_sentences(_words("yes that works okay then", gap_after={2: 2.5}))
    assert [s.raw_sentence for s in sentences] == ["yes that works", "okay then"]
    assert [s.sentence for s in sentences] == ["yes that works.", "okay then."]


def test_a_sentence_cut_after_a_comma_ends_with_a_full_stop_instead() -> None:
    sentences = build_sentences(_words("So, as I said, - we ship tomorrow", gap_after={3: 2.5}))
    assert [s.sentence for s in sentences] == ["So, as I said.", "- we ship tomorrow."]


def test_punctuation_only_tokens_are_not_words() -> None:
    words = [*_words("Right"), TimedWord(text=" ...", start=0.5, end=0.6, probability=0.2)]
    (sentence,) = build_sentences(words)
    assert [w.word for w in sentence.words] == ["right"]
    assert sentence.sentence == "Right ..."
    assert build_sentences([TimedWord(text=" -", start=0, end=0.1, probability=0.5)]) == []


@pytest.mark.parametrize(
    "token,words",
    [
        (" Hello,", ["hello"]),
        (" DON'T", ["don't"]),
        (" 'quoted'", ["quoted"]),
        (" cold-hearted", ["cold", "hearted"]),
        (" 3.5", ["3.5"]),
        (" end.", ["end"]),
        (" U.S.", ["us"]),
        (" (yes)", ["yes"]),
        (" $40", ["40"]),
        (" ?", []),
    ],
)
def test_normalise_word(token: str, words: list[str]) -> None:
    assert normalise_word(token) == words


def test_compound_words_share_their_time_in_order() -> None:
    (sentence,) = build_sentences([TimedWord(" ill-disposed.", 1.0, 2.2, 0.8)])
    first, second = sentence.words
    assert (first.word, second.word) == ("ill", "disposed")
    assert first.start_time == 1000 and second.end_time == 2200
    assert first.end_time == second.start_time and 1000 < first.end_time < 2200


def test_a_word_given_no_time_still_gets_some_and_so_do_its_parts() -> None:
    (sentence,) = build_sentences(
        [TimedWord(" yes", 1.0, 1.0, 0.9), TimedWord(" twenty-five.", 1.2, 1.2, 0.9)]
    )
    assert [(w.word, w.start_time < w.end_time) for w in sentence.words] == [
        ("yes", True),
        ("twenty", True),
        ("five", True),
    ]
    assert sentence.words[1].end_time <= sentence.words[2].start_time


def test_confidence_is_clamped_into_unit_interval() -> None:
    (sentence,) = build_sentences([TimedWord(" yes", 0.0, 0.2, 1.0000001)])
    assert sentence.words[0].confidence == 1.0


def test_document_round_trips_and_keeps_extra_keys() -> None:
    doc = TranscriptionDocument.model_validate(
        {
            "ver": "1.0.0",
            "request_id": "r",
            "channels": [{"transcript": [], "duration": 1.5}],
            "language": "en",
        }
    )
    again = TranscriptionDocument.model_validate_json(doc.model_dump_json())
    assert again.model_dump()["language"] == "en"
    assert again.channels[0].duration == 1.5

"""NCCO record and conversation actions: Vonage's names and ranges, every mistake named."""

from __future__ import annotations

from typing import Any

import pytest

from transcribe.errors import InvalidParametersError, InvalidRequestError
from transcribe.ncco import ConversationAction, RecordAction, parse_ncco, parse_record


def problems(data: Any) -> dict[str, str]:
    with pytest.raises(InvalidParametersError) as caught:
        parse_record(data)
    assert isinstance(caught.value, InvalidRequestError)
    assert caught.value.field == caught.value.problems[0][0]
    return dict(caught.value.problems)


def test_defaults_are_vonages() -> None:
    record = parse_record({})
    assert (record.file_format, record.channel_count, record.time_out) == ("mp3", 1, 7200)
    assert not record.synchronous and not record.beep_start and record.event_method == "POST"


@pytest.mark.parametrize(
    ("options", "file_format", "channels"),
    [
        ({"split": "conversation"}, "mp3", 2),
        ({"channels": 2}, "mp3", 2),
        ({"channels": 3}, "wav", 3),
        ({"split": "conversation", "channels": 32}, "wav", 32),
        ({"channels": 5, "format": "ogg"}, "ogg", 5),
        ({"format": "wav"}, "wav", 1),
        ({"channels": 1}, "mp3", 1),
    ],
)
def test_layout_and_format(options: dict[str, Any], file_format: str, channels: int) -> None:
    record = parse_record(options)
    assert (record.file_format, record.channel_count) == (file_format, channels)


def test_every_field_is_read_under_its_vonage_name() -> None:
    record = parse_record(
        {
            "action": "record",
            "format": "wav",
            "split": "conversation",
            "channels": 4,
            "endOnSilence": 3.5,
            "endOnKey": "#",
            "timeout": 60,
            "beepStart": True,
            "eventUrl": ["https://example.com/record"],
            "eventMethod": "get",
            "transcription": {"language": "en-GB", "eventUrl": "https://example.com/t"},
        }
    )
    assert (record.end_on_silence, record.end_on_key, record.time_out) == (3.5, "#", 60)
    assert record.beep_start and record.synchronous
    assert (record.event_url, record.event_method) == ("https://example.com/record", "GET")
    assert record.transcription is not None
    assert record.transcription.language == "en-GB"
    assert record.transcription.event_url == "https://example.com/t"
    stored = record.model_dump(by_alias=True, exclude_none=True)
    assert stored["timeOut"] == 60 and parse_record(stored) == record


def test_out_of_range_and_unknown_values_name_their_fields() -> None:
    found = problems(
        {
            "format": "flac",
            "split": "yes",
            "channels": 33,
            "endOnSilence": 2,
            "endOnKey": "A",
            "timeOut": 7201,
            "beepStart": "yes",
            "eventMethod": "PUT",
            "endOnSilense": 3,
        }
    )
    assert set(found) == {
        "format",
        "split",
        "channels",
        "endOnSilence",
        "endOnKey",
        "timeOut",
        "beepStart",
        "eventMethod",
        "endOnSilense",
    }
    assert found["channels"] == "must be less than or equal to 32 (got 33)"
    assert found["endOnSilence"] == "must be greater than or equal to 3 (got 2)"
    assert found["endOnSilense"] == "not a known option"
    assert problems({"endOnSilence": 11}) == {
        "endOnSilence": "must be less than or equal to 10 (got 11)"
    }
    assert set(problems({"channels": 0, "timeout": 2})) == {"channels", "timeout"}


def test_mp3_cannot_hold_more_than_two_channels() -> None:
    found = problems({"format": "mp3", "channels": 3})
    assert list(found) == ["format"] and "mp3 holds at most 2 channels" in found["format"]


def test_values_are_not_guessed_from_other_types() -> None:
    found = problems({"channels": "2", "beepStart": 1, "endOnKey": 5, "timeOut": 60.5})
    assert set(found) == {"channels", "beepStart", "endOnKey", "timeOut"}


def test_timeout_is_accepted_in_either_spelling_but_not_both() -> None:
    assert parse_record({"timeOut": 30}).time_out == parse_record({"timeout": 30}).time_out == 30
    assert "not both" in problems({"timeOut": 30, "timeout": 40})["timeOut"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (["https://a.example/x", "https://b.example/y"], "a list of one"),
        ([], "a list of one"),
        ("ftp://a.example/x", "http:// or https://"),
        ("a.example/x", "http:// or https://"),
        (42, "valid string"),
    ],
)
def test_event_urls(url: Any, reason: str) -> None:
    assert reason in problems({"eventUrl": url})["eventUrl"]
    assert reason in problems({"transcription": {"eventUrl": url}})["transcription.eventUrl"]


def test_transcription_options_are_checked_too() -> None:
    assert problems({"transcription": {"lang": "en"}}) == {
        "transcription.lang": "not a known option"
    }
    assert set(problems({"transcription": "yes"})) == {"transcription"}


def test_a_record_action_must_be_an_object() -> None:
    assert set(problems(["format", "wav"])) == {"record"}


def test_ncco_holds_record_and_conversation_actions() -> None:
    ncco = parse_ncco(
        [
            {"action": "record", "split": "conversation", "eventUrl": ["https://e.example/r"]},
            {"action": "conversation", "name": "support-42", "record": True},
        ]
    )
    record, conversation = ncco.actions
    assert isinstance(record, RecordAction) and record.channel_count == 2
    assert isinstance(conversation, ConversationAction)
    assert (conversation.name, conversation.record) == ("support-42", True)
    assert (conversation.start_on_enter, conversation.end_on_exit, conversation.mute) == (
        True,
        False,
        False,
    )
    assert ncco.records == [record] and ncco.conversation is conversation and not ncco.ignored


def test_what_is_not_carried_out_is_listed_with_the_reason() -> None:
    ncco = parse_ncco(
        [
            {"action": "talk", "text": "Please hold"},
            {"action": "conversation", "name": "a", "musicOnHoldUrl": ["https://m.example/x"]},
            {"action": "conversation", "name": "b"},
            {"action": "notify", "payload": {"at": "greeting"}, "eventUrl": ["https://n.example"]},
            {"action": "wait", "timeout": 0.01},
        ]
    )
    assert [(i.name, i.action) for i in ncco.ignored] == [
        ("ncco[0]", "talk"),
        ("ncco[1].musicOnHoldUrl", "conversation"),
        ("ncco[2]", "conversation"),
        ("ncco[4]", "wait"),
    ]
    assert ncco.conversation is not None and ncco.conversation.name == "a"
    (notify,) = ncco.notifications
    assert (notify.event_url, notify.event_method) == ("https://n.example", "POST")


def test_ncco_mistakes_name_the_action_and_field() -> None:
    with pytest.raises(InvalidParametersError) as caught:
        parse_ncco(
            [
                {"action": "record", "channels": 99},
                {"action": "tlk", "text": "hello"},
                {"name": "no action"},
                {"action": "conversation"},
                {"action": "conversation", "name": "x", "endOnExit": "yes"},
                {"action": "connect", "endpoint": [{"type": "fax"}]},
            ]
        )
    problems = dict(caught.value.problems)
    assert problems.pop("ncco[1].action").startswith("must be one of 'record', 'conversation'")
    assert problems.pop("ncco[5].endpoint[0].type").startswith("must be one of 'phone'")
    assert problems == {
        "ncco[0].channels": "must be less than or equal to 32 (got 99)",
        "ncco[2].action": "each action needs an 'action' key",
        "ncco[3].name": "required",
        "ncco[4].endOnExit": "must be a valid boolean (got 'yes')",
    }
    for bad in ([], {"action": "record"}, "record"):
        with pytest.raises(InvalidParametersError, match="ncco: a non-empty list"):
            parse_ncco(bad)
    with pytest.raises(InvalidParametersError, match="at most 100 actions"):
        parse_ncco([{"action": "record"}] * 101)

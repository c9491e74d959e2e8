"""transcribe.client against the real service on loopback: upload, wait, fetch, analyse."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import srt
import webvtt

from transcribe.client import (
    ApiError,
    AuthError,
    Client,
    RecordingView,
    Transcript,
    analysis,
    verify_event,
)

from calls import TwoLegCall, clips_call, dialogue_call
from live import (
    KeyPair,
    LiveApi,
    Receiver,
    open_leg,
    stream,
)
from speech import Clip

LABELS = ["Caller", "Agent"]
SPLIT = {"split": "conversation", "format": "wav", "transcription": {"language": "en-US"}}


@dataclass
class Session:
    api: LiveApi
    app: dict[str, str]
    client: Client
    receiver: Receiver
    calls: dict[str, RecordingView]  # call name -> its recording, transcribed


@pytest.fixture(scope="module")
def session(api: LiveApi, keys: KeyPair, clips: dict[str, Clip]) -> Iterator[Session]:
    receiver = Receiver().start()
    app = api.register(keys, event_url=receiver.url)
    with Client(api.url, app["id"], keys.private_pem) as client:
        calls: list[TwoLegCall] = [clips_call(clips), dialogue_call()]
        accepted = {
            call.name: client.upload_legs(call.leg_files(), SPLIT, call.offsets_ms)
            for call in calls
        }
        views = {name: client.wait(a.recording_uuid, timeout=300) for name, a in accepted.items()}
        yield Session(api, app, client, receiver, views)
    receiver.stop()


def test_wait_returns_the_recording_ready_and_transcribed(session: Session) -> None:
    view = session.calls["clips"]
    assert view.status == "ready" and view.channels == 2 and view.format == "wav"
    assert view.transcription is not None and view.transcription.status == "done"
    audio, rate = sf.read(io.BytesIO(session.client.download(view.recording_url or "")))
    assert rate == 16000 and audio.shape[1] == 2
    assert audio.shape[0] / rate == pytest.approx(view.duration, abs=0.05)


def test_words_frame_has_each_leg_in_its_channel_with_times_in_seconds(session: Session) -> None:
    transcript = session.client.transcript(session.calls["clips"].recording_uuid, LABELS)
    words = transcript.words()
    assert list(words.columns) == [
        "call", "channel", "speaker", "sentence", "word", "start", "end", "confidence",
    ]  # fmt: skip
    document_words = [
        w for c in transcript.document.channels for s in c.transcript for w in s.words
    ]
    assert len(words) == len(document_words)
    caller = words[words["channel"] == 0]
    agent = words[words["channel"] == 1]
    assert {"americans", "country"} <= set(caller["word"])
    assert {"forward", "meters"} <= set(agent["word"]) and "americans" not in set(agent["word"])
    assert set(caller["speaker"]) == {"Caller"} and set(agent["speaker"]) == {"Agent"}
    assert (words["call"] == session.calls["clips"].recording_uuid).all()
    # The agent joined 9 s into the call: times are seconds on the recording's clock.
    assert caller["start"].min() < 1.5
    assert 8.9 < agent["start"].min() < 10.5
    assert (words["end"] >= words["start"]).all() and words["confidence"].between(0, 1).all()


def test_sentences_questions_answers_and_action_items(session: Session) -> None:
    transcript = session.client.transcript(session.calls["dialogue"], LABELS)
    sentences = transcript.sentences()
    assert sentences["start"].is_monotonic_increasing
    assert len(sentences) == sum(len(c.transcript) for c in transcript.document.channels)
    assert (sentences["end"] > sentences["start"]).all()

    pairs = transcript.qa_pairs()
    assert len(pairs) == len(transcript.document.qa_pairs) == 2
    assert set(pairs["question_speaker"]) == {"Caller"} and set(pairs["answer_speaker"]) == {
        "Agent"
    }
    assert (pairs["answer_start"] > pairs["question_start"]).all()
    assert any("invoice" in q for q in pairs["question"])

    items = transcript.action_items()
    agent_items = items[items["speaker"] == "Agent"]["action_item"]
    assert any("send the invoice tomorrow" in item for item in agent_items)


def test_call_statistics_see_the_overlap_and_the_silence(session: Session) -> None:
    transcript = session.client.transcript(session.calls["clips"], LABELS)
    talk = analysis.talk_time(transcript)
    assert list(talk["speaker"]) == LABELS
    assert talk["share"].sum() == pytest.approx(1.0)
    assert (talk["words_per_minute"] > 60).all()
    # JFK talks from about 0.3 s to 10.5 s; the agent from about 9.2 s.
    overlap = analysis.overlaps(transcript)
    assert len(overlap) == 1 and 0.3 < overlap["duration"].iloc[0] < 2.5
    silence = analysis.silences(transcript)
    # From the end of "go forward ten meters" (11.8 s at most) to Abbie, placed at 16.8 s.
    assert len(silence) == 1
    assert 10.5 < silence["start"].iloc[0] < 11.8 and 16.8 < silence["end"].iloc[0] < 19.0

    summary = analysis.summary([transcript, Transcript.from_json(transcript.document.model_dump())])
    assert len(summary) == 2 and summary["overlap_s"].iloc[0] == overlap["duration"].sum()


def test_subtitles_parse_back_with_channel_labels(session: Session) -> None:
    transcript = session.client.transcript(session.calls["dialogue"], LABELS)
    sentences = transcript.sentences()
    cues = list(srt.parse(transcript.to_srt()))
    assert len(cues) == len(sentences)
    assert [c.start.total_seconds() for c in cues] == pytest.approx(list(sentences["start"]))
    assert cues[0].content.startswith("Caller: ")
    assert any(c.content.startswith("Agent: ") for c in cues)

    captions = webvtt.from_string(transcript.to_vtt())
    assert len(captions) == len(sentences)
    assert {c.voice for c in captions} == {"Caller", "Agent"}

    lines = transcript.to_text().splitlines()
    assert len(lines) == len(sentences) and lines[0].split("] ", 1)[1].startswith("Caller: ")


def test_recordings_lists_every_page_and_filters_by_status(session: Session) -> None:
    done = {v.recording_uuid for v in session.calls.values()}
    listed = [r.recording_uuid for r in session.client.recordings(page_size=1)]
    assert len(listed) == len(set(listed))
    assert done <= set(listed)

    # A call in progress, so that one recording is not ready: `recording` until it hangs up.
    # Its `record` event goes to a receiver of its own, not to the session's.
    own = Receiver().start()
    token = session.client.token
    with session.api.client(token) as http:
        ncco = [{"action": "record", "format": "wav", "eventUrl": [own.url]}]
        created = http.post("/v1/conversations", json={"ncco": ncco})
        assert created.status_code == 201, created.text
    conversation = created.json()["conversation_uuid"]
    leg = open_leg(created.json()["legs_url"], token)
    try:
        stream(leg, np.zeros(8000, np.float32))
        live: list[RecordingView] = []
        deadline = time.monotonic() + 30
        while not live:
            assert time.monotonic() < deadline, "the live call's recording never appeared"
            time.sleep(0.05)
            live = list(session.client.recordings(conversation_uuid=conversation))
        (call,) = live
        assert call.status == "recording"

        ready = _statuses(session.client, "ready")
        assert set(ready.values()) == {"ready"} and done <= set(ready), ready
        assert call.recording_uuid not in ready
        assert _statuses(session.client, "recording") == {call.recording_uuid: "recording"}
        leg.close()
        # Hung up: the recording is stored and its `record` event sent before the test ends.
        (event,) = own.wait_for(1, timeout=60)
        assert event.json()["recording_uuid"] == call.recording_uuid
    finally:
        leg.close()
        own.stop()


def _statuses(client: Client, status: str) -> dict[str, str]:
    """recording_uuid -> status of every recording listed with the `status` filter."""
    return {r.recording_uuid: r.status for r in client.recordings(status=status, page_size=1)}


def test_saved_document_loads_back_the_same(session: Session, tmp_path: Path) -> None:
    transcript = session.client.transcript(session.calls["dialogue"])
    path = transcript.save(tmp_path / "call.json")
    again = Transcript.from_file(path)
    assert again.document == transcript.document and again.name == "call"
    assert again.labels == ["Channel 1", "Channel 2"]


def test_webhook_helper_accepts_real_events_and_refuses_tampered_ones(session: Session) -> None:
    secret = session.app["signature_secret"]
    events = session.receiver.wait_for(4)
    for event in events:
        payload = verify_event(secret, event.headers["authorization"], event.body)
        assert payload == json.loads(event.body)
    assert {json.loads(e.body).get("status", "record") for e in events} == {"record", "transcribed"}

    real = events[0]
    tampered = real.body.replace(b'"size":', b'"size":1')
    with pytest.raises(AuthError, match="payload_hash"):
        verify_event(secret, real.headers["authorization"], tampered)
    with pytest.raises(AuthError, match="signature"):
        verify_event(
            "not-the-secret-but-32-bytes-long-00", real.headers["authorization"], real.body
        )
    with pytest.raises(AuthError, match="no Authorization"):
        verify_event(secret, "", real.body)


def test_webhook_helper_checks_get_events_by_their_query_string(
    session: Session, clips: dict[str, Clip]
) -> None:
    record = {"format": "wav", "eventUrl": [session.receiver.url], "eventMethod": "GET"}
    call = clips_call(clips)
    before = len(session.receiver.requests)
    accepted = session.client.upload_legs(call.leg_files()[:1], record)
    event = session.receiver.wait_for(before + 1)[-1]
    assert event.method == "GET"
    payload = verify_event(
        session.app["signature_secret"], event.headers["authorization"], query_string=event.query
    )
    assert payload["recording_uuid"] == accepted.recording_uuid
    with pytest.raises(AuthError):
        verify_event(
            session.app["signature_secret"],
            event.headers["authorization"],
            query_string=event.query.replace("size=", "size=9"),
        )


def test_api_errors_carry_the_problem(session: Session) -> None:
    with pytest.raises(ApiError) as caught:
        session.client.upload_legs([("leg.wav", b"RIFF")], {"split": "sideways"})
    assert caught.value.status_code == 422
    assert caught.value.problem["invalid_parameters"][0]["name"] == "split"
    with pytest.raises(ApiError) as missing:
        session.client.recording("00000000-0000-0000-0000-000000000000")
    assert missing.value.status_code == 404


def test_tokens_are_minted_again_before_they_expire(session: Session, keys: KeyPair) -> None:
    """A token lives 32 s and is replaced 30 s before it ends: the second call needs a new one."""
    with Client(session.api.url, session.app["id"], keys.private_pem, token_ttl_s=32) as client:
        first = client.token
        assert client.recording(session.calls["clips"].recording_uuid).status == "ready"
        time.sleep(2.2)
        assert client.recording(session.calls["clips"].recording_uuid).status == "ready"
        assert client.token != first


def test_private_key_from_a_file_and_a_clear_error_for_a_missing_one(
    session: Session, keys: KeyPair, tmp_path: Path
) -> None:
    path = tmp_path / "private.pem"
    path.write_text(keys.private_pem)
    with Client(session.api.url, session.app["id"], path) as client:
        assert len(list(client.recordings())) >= 2
    with pytest.raises(FileNotFoundError, match=r"nowhere\.pem"):
        Client(session.api.url, session.app["id"], "nowhere.pem")

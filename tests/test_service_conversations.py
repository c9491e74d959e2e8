"""One NCCO per leg, as in Vonage: NCCOs naming the same conversation meet in it, each leg
with its own NCCO's options (`startOnEnter`, `endOnExit`, `mute`, `canSpeak`), checked in the
rendered audio of real speech streamed over real WebSockets; and `notify`, and
`transcription` on a conversation."""

from __future__ import annotations

import io
import threading
import time
from typing import Any
from urllib.parse import parse_qs

import numpy as np
import pytest
import soundfile as sf
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection

from transcribe.audio import FloatArray
from transcribe.auth import verify_webhook

from live import KeyPair, LiveApi, Receiver, open_leg, stream, token_for
from signals import find_offset
from speech import Clip

RATE = 16000


def create(api: LiveApi, token: str, ncco: list[dict[str, Any]]) -> dict[str, Any]:
    with api.client(token) as client:
        response = client.post("/v1/conversations", json={"ncco": ncco})
        assert response.status_code == 201, response.text
        return dict(response.json())


def recording(api: LiveApi, token: str, event: dict[str, Any]) -> FloatArray:
    with api.client(token) as client:
        audio = client.get(event["recording_url"])
    assert audio.status_code == 200
    samples, rate = sf.read(io.BytesIO(audio.content), dtype="float32", always_2d=True)
    assert rate == RATE
    return np.asarray(samples)


def turns(*clips: FloatArray) -> list[FloatArray]:
    """One track per leg, taking turns: leg k says clips[k] while the others are silent."""
    total = sum(len(c) for c in clips)
    tracks, at = [], 0
    for clip in clips:
        track = np.zeros(total, np.float32)
        track[at : at + len(clip)] = clip
        tracks.append(track)
        at += len(clip)
    return tracks


def talk(legs: list[ClientConnection], tracks: list[FloatArray]) -> None:
    """Every leg streams its track at once, in real time, then all hang up."""
    until = time.monotonic() + max(len(t) for t in tracks) / RATE + 0.3
    threads = [
        threading.Thread(target=stream, args=(leg, track, until))
        for leg, track in zip(legs, tracks, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for leg in legs:
        leg.close()


def peak(samples: FloatArray, start: float, end: float) -> float:
    return float(np.abs(samples[round(start * RATE) : round(end * RATE)]).max())


@pytest.fixture
def token(api: LiveApi, keys: KeyPair) -> str:
    return token_for(api.register(keys)["id"], keys)


def test_a_leg_that_does_not_start_the_conversation_waits_unrecorded(
    api: LiveApi, token: str, receiver: Receiver, clips: dict[str, Clip]
) -> None:
    """The customer's NCCO creates the conversation with `startOnEnter: false`; the agent's
    NCCO names it and joins it through its own legs_url. What the customer says before the
    agent joins is not in the recording, which starts when the agent joins."""
    record = {"action": "record", "split": "conversation", "format": "wav"}
    customer_ncco = [
        {**record, "eventUrl": [receiver.url]},
        {"action": "conversation", "name": "queue-1", "startOnEnter": False},
    ]
    waiting = create(api, token, customer_ncco)
    agent_ncco = create(api, token, [{"action": "conversation", "name": "queue-1"}])
    assert agent_ncco["conversation_uuid"] == waiting["conversation_uuid"]
    assert agent_ncco["legs_url"] != waiting["legs_url"]
    assert "/nccos/" in agent_ncco["legs_url"]

    before = clips["goforward.wav"].samples  # said while waiting
    said, answer = clips["cards_002.wav"].samples, clips["cards_005.wav"].samples
    customer = open_leg(waiting["legs_url"], token)
    stream(customer, before)
    agent = open_leg(agent_ncco["legs_url"], token)
    hello = np.zeros(RATE // 2, np.float32)  # the recording starts as the agent joins
    talk([customer, agent], turns(hello, said, answer)[1:])

    (event,) = receiver.wait_for(1)
    assert event.json()["conversation_uuid"] == waiting["conversation_uuid"]
    samples = recording(api, token, event.json())
    left, right = samples[:, 0], samples[:, 1]
    call = (len(hello) + len(said) + len(answer)) / RATE + 0.3
    assert samples.shape[0] / RATE == pytest.approx(call, abs=0.5)  # not the waiting time
    offset, match = find_offset(left, said)  # the customer: first to join, left
    assert match > 0.5 and offset == pytest.approx(0.5, abs=0.3)
    assert find_offset(left, before)[1] < 0.3  # what it said while waiting is not there
    offset, match = find_offset(right, answer)
    assert match > 0.5 and offset == pytest.approx(0.5 + len(said) / RATE, abs=0.3)


def test_a_leg_with_end_on_exit_ends_the_conversation_for_everyone(
    api: LiveApi, token: str, receiver: Receiver, clips: dict[str, Clip]
) -> None:
    record = {"action": "record", "split": "conversation", "format": "wav"}
    first = create(
        api,
        token,
        [{**record, "eventUrl": [receiver.url]}, {"action": "conversation", "name": "m"}],
    )
    moderator_ncco = create(
        api, token, [{"action": "conversation", "name": "m", "endOnExit": True}]
    )
    customer = open_leg(first["legs_url"], token)
    moderator = open_leg(moderator_ncco["legs_url"], token)
    long_talk = np.concatenate([clips["cards_005.wav"].samples] * 3)  # 10.5 s
    closed: list[ConnectionClosed] = []

    def customer_talks() -> None:
        try:
            stream(customer, long_talk)
            customer.recv(timeout=10)
        except ConnectionClosed as exc:
            closed.append(exc)

    other = threading.Thread(target=customer_talks)
    other.start()
    short = clips["cards_002.wav"].samples
    stream(moderator, short)
    moderator.close()  # the moderator hangs up: the customer is hung up too
    other.join(15)
    assert closed and closed[0].rcvd is not None, "the customer's leg was not closed"
    assert closed[0].rcvd.code == 1000 and "endOnExit" in closed[0].rcvd.reason

    (event,) = receiver.wait_for(1)
    samples = recording(api, token, event.json())
    assert samples.shape[0] / RATE == pytest.approx(len(short) / RATE, abs=0.5)
    assert find_offset(samples[:, 1], short)[1] > 0.5
    with api.client(token) as client:
        view = client.get(f"/v1/recordings/{event.json()['recording_uuid']}").json()
    assert view["end_reason"] == "hangup"
    # The conversation is over, so the name opens a new one.
    again = create(api, token, [{"action": "conversation", "name": "m", "record": True}])
    assert again["conversation_uuid"] != first["conversation_uuid"]
    assert again["legs_url"].endswith(f"{again['conversation_uuid']}/legs")


@pytest.mark.parametrize(
    ("split", "options"),
    [
        (True, {"mute": True}),
        (True, {"canSpeak": []}),
        (False, {"mute": True}),
        (False, {"canSpeak": []}),
        (False, {}),
    ],
)
def test_mute_and_can_speak_keep_a_leg_out_of_the_others_mix(
    api: LiveApi, token: str, receiver: Receiver, clips: dict[str, Clip],
    split: bool, options: dict[str, Any],
) -> None:  # fmt: skip
    """Two legs take turns. A muted leg is silent in the recording; one that nobody hears
    (`canSpeak: []`) is left out of the mono mix but keeps its own channel in a split."""
    room = f"room-{split}-{'-'.join(options) or 'plain'}"
    record: dict[str, Any] = {"action": "record", "format": "wav", "eventUrl": [receiver.url]}
    if split:
        record["split"] = "conversation"
    first = create(api, token, [record, {"action": "conversation", "name": room}])
    second = create(api, token, [{"action": "conversation", "name": room, **options}])
    said, other = clips["cards_002.wav"].samples, clips["cards_003.wav"].samples
    legs = [open_leg(first["legs_url"], token), open_leg(second["legs_url"], token)]
    talk(legs, turns(said, other))

    (event,) = receiver.wait_for(1)
    samples = recording(api, token, event.json())
    turn = len(said) / RATE  # the second leg speaks from here
    assert find_offset(samples[:, 0], said)[1] > 0.5  # the first leg is always there
    if split:
        right = samples[:, 1]
        if options.get("mute"):
            assert not right.any(), "a muted leg's channel holds sound"
        else:  # heard by nobody, but in a channel of its own
            offset, match = find_offset(right, other)
            assert match > 0.5 and offset == pytest.approx(turn, abs=0.3)
    else:
        mix = samples[:, 0]
        second_turn = peak(mix, turn + 0.3, turn + len(other) / RATE - 0.3)
        if options:
            assert second_turn == 0.0, "the second leg is in the mono mix"
        else:
            assert second_turn > 0.05 and find_offset(mix, other)[1] > 0.5


def test_notify_sends_its_payload_as_a_signed_durable_webhook(
    api: LiveApi, keys: KeyPair, receiver: Receiver
) -> None:
    app = api.register(keys)
    token = token_for(app["id"], keys)
    payload = {"step": "greeted", "customer": {"id": 42, "tags": ["vip"]}}
    created = create(
        api,
        token,
        [
            {"action": "notify", "payload": payload, "eventUrl": [receiver.url]},
            {"action": "record"},
            {
                "action": "notify",
                "payload": {"step": "recording"},
                "eventUrl": [receiver.url],
                "eventMethod": "GET",
            },
        ],
    )
    assert created["ignored_actions"] == []
    requests = receiver.wait_for(2)
    (posted,) = [r for r in requests if r.method == "POST"]
    (got,) = [r for r in requests if r.method == "GET"]
    assert posted.json() == payload
    verify_webhook(
        posted.headers["authorization"].removeprefix("Bearer "),
        app["signature_secret"],
        posted.body,
    )
    assert parse_qs(got.query) == {"step": ["recording"]}
    verify_webhook(
        got.headers["authorization"].removeprefix("Bearer "),
        app["signature_secret"],
        got.query.encode(),
    )
    with api.client(token) as client:
        deadline = time.monotonic() + 10
        while True:
            deliveries = [
                d for d in client.get("/v1/webhooks/deliveries").json() if d["event"] == "notify"
            ]
            if {d["status"] for d in deliveries} == {"delivered"} or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert sorted(d["method"] for d in deliveries) == ["GET", "POST"]
    assert {d["status"] for d in deliveries} == {"delivered"}
    assert all(d["recording_uuid"] is None and d["attempts"] for d in deliveries)


def test_a_conversations_recording_is_transcribed_as_its_transcription_asks(
    api: LiveApi, token: str, receiver: Receiver, clips: dict[str, Clip]
) -> None:
    created = create(
        api,
        token,
        [
            {
                "action": "conversation",
                "name": "transcribed-room",
                "record": True,
                "eventUrl": [receiver.url],
                "transcription": {"language": "en-US", "eventUrl": [receiver.url]},
            }
        ],
    )
    leg = open_leg(created["legs_url"], token)
    talk([leg], [clips["goforward.wav"].samples])
    events = [r.json() for r in receiver.wait_for(2)]
    (transcribed,) = [e for e in events if e.get("status") == "transcribed"]
    with api.client(token) as client:
        document = client.get(transcribed["transcription_url"]).json()
    text = " ".join(s["raw_sentence"] for c in document["channels"] for s in c["transcript"])
    assert "forward" in text and document["language"] == "en-US"

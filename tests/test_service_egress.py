"""Webhook egress in the running service: a receiver that trickles its answer is cut off at
the attempt's deadline and holds neither transcription nor other applications' webhooks;
a network the operator blocked is never contacted.

(How one attempt treats blocked addresses, huge answers, redirects and TLS, without the
model: test_webhook_egress.)"""

from __future__ import annotations

import io
import json
import time
from typing import Any

import soundfile as sf

from live import BadReceiver, KeyPair, LiveApi, Receiver, new_keypair, token_for
from speech import Clip

# Two webhook threads, one attempt per host at a time, two seconds per attempt; two consumer
# threads render and transcribe (live.service_settings). Loopback receivers are allowed; the
# link-local network (cloud metadata) is not.
API_SETTINGS = {
    "webhooks": {
        "timeout_s": 2,
        "workers": 2,
        "max_per_host": 1,
        "blocked_networks": ["169.254.0.0/16"],
    }
}


def _record_only(api: LiveApi, token: str, clip: Clip, event_url: str) -> str:
    """POST /v1/recordings without transcription: its one event is `record`."""
    buffer = io.BytesIO()
    sf.write(buffer, clip.samples, 16000, format="WAV", subtype="PCM_16")
    with api.client(token) as client:
        response = client.post(
            "/v1/recordings",
            data={"record": json.dumps({"eventUrl": [event_url]})},
            files=[("leg", ("leg.wav", buffer.getvalue(), "audio/wav"))],
        )
    assert response.status_code == 202, response.text
    recording_uuid: str = response.json()["recording_uuid"]
    return recording_uuid


def _deliveries(api: LiveApi, token: str, recording_uuid: str) -> list[dict[str, Any]]:
    with api.client(token) as client:
        found: list[dict[str, Any]] = client.get(
            "/v1/webhooks/deliveries", params={"recording_uuid": recording_uuid}
        ).json()
    return found


def _settled(api: LiveApi, token: str, recording_uuid: str) -> dict[str, Any]:
    """The recording's one delivery once it has an attempt and no further one is due."""
    deadline = time.monotonic() + 60
    while True:
        found = _deliveries(api, token, recording_uuid)
        if found and found[0]["attempts"] and found[0]["status"] != "pending":
            return found[0]
        assert time.monotonic() < deadline, f"never settled: {found}"
        time.sleep(0.05)


def _ready(api: LiveApi, token: str, recording_uuid: str) -> None:
    deadline = time.monotonic() + 60
    with api.client(token) as client:
        while client.get(f"/v1/recordings/{recording_uuid}").json()["status"] != "ready":
            assert time.monotonic() < deadline, "the recording was never rendered"
            time.sleep(0.05)


def test_a_trickling_receiver_holds_neither_transcription_nor_other_webhooks(
    api: LiveApi, keys: KeyPair, receiver: Receiver, clips: dict[str, Clip]
) -> None:
    slow = BadReceiver("trickle", size=600)  # a byte a second, for ten minutes
    try:
        slow_app = api.register(keys)
        slow_token = token_for(slow_app["id"], keys)
        held = [
            _record_only(api, slow_token, clips[name], slow.url("localhost"))
            for name in ("cards_001.wav", "cards_002.wav")
        ]
        for recording_uuid in held:
            _ready(api, slow_token, recording_uuid)  # both `record` events are queued
        slow.wait_for(1)  # and one of them is being trickled

        other_keys = new_keypair()
        other = api.register(other_keys)
        other_token = token_for(other["id"], other_keys)
        buffer = io.BytesIO()
        sf.write(buffer, clips["goforward.wav"].samples, 16000, format="WAV")
        with api.client(other_token) as client:
            response = client.post(
                "/v1/transcriptions",
                files={"file": ("call.wav", buffer.getvalue(), "audio/wav")},
                data={"eventUrl": receiver.url},
            )
            assert response.status_code == 202, response.text
        (event,) = receiver.wait_for(1, timeout=90)
        assert event.json()["status"] == "transcribed"

        # Meanwhile the slow receiver's attempts were each cut off after two seconds (the
        # first may still be running when a quick transcription is done: wait for it).
        deadline = time.monotonic() + 30
        while True:
            attempts = [
                a for r in held for d in _deliveries(api, slow_token, r) for a in d["attempts"]
            ]
            if attempts or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert attempts and all(a["error"] == "timed out after 2 s" for a in attempts), attempts
    finally:
        slow.stop()


def test_a_blocked_network_from_the_settings_is_never_contacted(
    api: LiveApi, keys: KeyPair, clips: dict[str, Clip]
) -> None:
    app = api.register(keys)
    token = token_for(app["id"], keys)
    recording_uuid = _record_only(
        api, token, clips["cards_003.wav"], "http://169.254.169.254/latest/meta-data/"
    )
    delivery = _settled(api, token, recording_uuid)
    assert delivery["status"] == "blocked" and delivery["next_attempt_at"] is None
    (attempt,) = delivery["attempts"]
    assert attempt["status_code"] is None
    assert attempt["error"] == (
        "not contacted: 169.254.169.254 resolves into the blocked network 169.254.0.0/16"
    )

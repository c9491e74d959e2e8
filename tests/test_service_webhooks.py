"""Webhooks as a receiver sees them: signed, retried with growing gaps, listed, redelivered."""

from __future__ import annotations

import io
import random
import time
from urllib.parse import parse_qsl

import soundfile as sf

from transcribe.auth import verify_webhook
from transcribe.config import WebhookSettings
from transcribe.webhooks import next_delay

from live import (
    LiveApi,
    Receiver,
    free_port,
    new_keypair,
    token_for,
)
from speech import Clip

# First retry after 0.75-1.25 s, the second after 1.5-2.5 s: gaps that cannot overlap.
API_SETTINGS = {"webhooks": {"backoff_base_s": 1.0}}


def _upload(api: LiveApi, token: str, clip: Clip, **fields: str) -> str:
    buffer = io.BytesIO()
    sf.write(buffer, clip.samples, 16000, format="WAV")
    with api.client(token) as client:
        response = client.post(
            "/v1/transcriptions",
            files={"file": ("c.wav", buffer.getvalue(), "audio/wav")},
            data=fields,
        )
        assert response.status_code == 202, response.text
        return str(response.json()["recording_uuid"])


def test_503_twice_then_200_is_three_attempts_with_growing_gaps(
    api: LiveApi, receiver: Receiver, clips: dict[str, Clip]
) -> None:
    keys = new_keypair()
    app = api.register(keys, event_url=receiver.url)  # the application's URL is the fallback
    receiver.statuses = [503, 503]
    token = token_for(app["id"], keys)
    recording_uuid = _upload(api, token, clips["goforward.wav"])

    first, second, third = receiver.wait_for(3)
    assert first.body == second.body == third.body  # the same event each time
    for request in (first, second, third):
        token_header = request.headers["authorization"].removeprefix("Bearer ")
        verify_webhook(token_header, app["signature_secret"], request.body)
    gap1, gap2 = second.at - first.at, third.at - second.at
    assert gap2 > gap1 > 0.7, (gap1, gap2)

    with api.client(token) as client:
        (delivery,) = client.get(
            "/v1/webhooks/deliveries", params={"recording_uuid": recording_uuid}
        ).json()
        assert delivery["status"] == "delivered" and delivery["event"] == "transcribed"
        assert [a["status_code"] for a in delivery["attempts"]] == [503, 503, 200]

        again = client.post(f"/v1/webhooks/deliveries/{delivery['id']}/redeliver")
        assert again.status_code == 202
        fourth = receiver.wait_for(4)[3]
        assert fourth.body == first.body
        assert client.post("/v1/webhooks/deliveries/nope/redeliver").status_code == 404


def test_a_4xx_answer_is_final(api: LiveApi, receiver: Receiver, clips: dict[str, Clip]) -> None:
    keys = new_keypair()
    app = api.register(keys)
    receiver.statuses = [404]
    token = token_for(app["id"], keys)
    recording_uuid = _upload(api, token, clips["cards_002.wav"], eventUrl=receiver.url)
    receiver.wait_for(1)
    with api.client(token) as client:
        for _ in range(100):
            (delivery,) = client.get(
                "/v1/webhooks/deliveries", params={"recording_uuid": recording_uuid}
            ).json()
            if delivery["status"] != "pending":
                break
            time.sleep(0.05)
        assert delivery["status"] == "failed" and len(delivery["attempts"]) == 1
    assert len(receiver.requests) == 1


def test_get_method_sends_signed_query_parameters(
    api: LiveApi, receiver: Receiver, clips: dict[str, Clip]
) -> None:
    keys = new_keypair()
    app = api.register(keys)
    token = token_for(app["id"], keys)
    recording_uuid = _upload(
        api, token, clips["cards_003.wav"], eventUrl=receiver.url, eventMethod="GET"
    )
    (request,) = receiver.wait_for(1)
    assert request.method == "GET" and request.body == b""
    fields = dict(parse_qsl(request.query))
    assert fields["recording_uuid"] == recording_uuid and fields["status"] == "transcribed"
    token_header = request.headers["authorization"].removeprefix("Bearer ")
    verify_webhook(token_header, app["signature_secret"], request.query.encode())


def test_an_unreachable_receiver_is_retried(api: LiveApi, clips: dict[str, Clip]) -> None:
    keys = new_keypair()
    app = api.register(keys)
    token = token_for(app["id"], keys)
    dead = f"http://127.0.0.1:{free_port()}/nobody"
    recording_uuid = _upload(api, token, clips["cards_004.wav"], eventUrl=dead)
    with api.client(token) as client:
        for _ in range(400):
            deliveries = client.get(
                "/v1/webhooks/deliveries", params={"recording_uuid": recording_uuid}
            ).json()
            if deliveries and len(deliveries[0]["attempts"]) >= 2:
                break
            time.sleep(0.05)
        (delivery,) = deliveries
        assert delivery["status"] == "pending" and delivery["next_attempt_at"]
        assert all(a["status_code"] is None and a["error"] for a in delivery["attempts"])


def test_backoff_grows_and_is_capped() -> None:
    settings = WebhookSettings(backoff_base_s=2, backoff_max_s=60)
    rng = random.Random(1)
    delays = [next_delay(n, settings, rng) for n in range(1, 10)]
    assert 1.5 <= delays[0] <= 2.5 and 3 <= delays[1] <= 5
    assert all(d <= 75 for d in delays) and delays[-1] >= 45

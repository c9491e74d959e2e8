"""Webhooks as a receiver sees them: signed, retried with growing gaps, listed, redelivered."""

from __future__ import annotations

import random
import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx

from transcribe.auth import verify_webhook
from transcribe.config import WebhookSettings
from transcribe.webhooks import next_delay

from live import (
    LiveApi,
    Receiver,
    free_port,
    new_keypair,
    token_for,
    upload_recording,
)
from speech import Clip

# First retry after 0.75-1.25 s, the second after 1.5-2.5 s: gaps that cannot overlap.
API_SETTINGS = {"webhooks": {"backoff_base_s": 1.0}}


def _upload(api: LiveApi, token: str, clip: Clip, **fields: str) -> str:
    return upload_recording(api, token, clip.samples, **fields)


def _settled(client: httpx.Client, recording_uuid: str, timeout: float = 30) -> dict[str, Any]:
    """The recording's one delivery, once it is no longer pending."""
    deadline = time.monotonic() + timeout
    while True:
        (delivery,) = client.get(
            "/v1/webhooks/deliveries", params={"recording_uuid": recording_uuid}
        ).json()
        if delivery["status"] != "pending":
            return dict(delivery)
        assert time.monotonic() < deadline, f"still pending after {timeout} s: {delivery}"
        time.sleep(0.05)


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
        # The receiver sees the third request before the service has recorded its answer.
        delivery = _settled(client, recording_uuid)
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
        delivery = _settled(client, recording_uuid)
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
    deliveries: list[dict[str, Any]] = []
    with api.client(token) as client:
        deadline = time.monotonic() + 120  # the transcription comes first, then 1 s of backoff
        while not (deliveries and len(deliveries[0]["attempts"]) >= 2):
            assert time.monotonic() < deadline, f"no second attempt in 120 s: {deliveries}"
            time.sleep(0.05)
            deliveries = client.get(
                "/v1/webhooks/deliveries", params={"recording_uuid": recording_uuid}
            ).json()
    (delivery,) = deliveries
    assert delivery["event"] == "transcribed" and delivery["url"] == dead
    # Refused connections are recorded as errors and keep the delivery pending, with a
    # retry scheduled after the latest attempt.
    attempts = delivery["attempts"]
    assert all(a["status_code"] is None and a["error"] for a in attempts), attempts
    assert delivery["status"] == "pending", delivery
    at = [_instant(a["at"]) for a in attempts]
    assert delivery["next_attempt_at"] and _instant(delivery["next_attempt_at"]) > at[-1]
    # The second attempt came after the first backoff (0.75-1.25 s with a 1 s base).
    assert (at[1] - at[0]).total_seconds() > 0.7, at


def _instant(iso: str) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def test_backoff_grows_and_is_capped() -> None:
    settings = WebhookSettings(backoff_base_s=2, backoff_max_s=60)
    rng = random.Random(1)
    delays = [next_delay(n, settings, rng) for n in range(1, 10)]
    assert 1.5 <= delays[0] <= 2.5 and 3 <= delays[1] <= 5
    assert all(d <= 75 for d in delays) and delays[-1] >= 45

"""Time-driven behaviour on a clock the test moves: webhook retry schedules and retention.

The service runs on a `ManualClock`: nothing is due until the test moves time on, so these
tests never wait for a backoff or a retention period to pass on the wall clock (only for the
sweeper's next pass, a fraction of a second)."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from transcribe.clock import ManualClock

from live import KeyPair, LiveApi, Receiver, token_for, upload_recording
from speech import Clip

BACKOFF_S = 600.0  # the first retry's delay: far beyond any test's wall time
DAY_S = 86400.0


API_SETTINGS = {"webhooks": {"backoff_base_s": BACKOFF_S}}


@pytest.fixture(scope="module")
def service_clock() -> ManualClock:
    return ManualClock()


def _upload(api: LiveApi, token: str, clip: Clip, event_url: str) -> str:
    return upload_recording(api, token, clip.samples, eventUrl=event_url)


def _delivery(api: LiveApi, token: str, recording_uuid: str, attempts: int) -> dict[str, Any]:
    """The recording's one delivery once it has `attempts` attempts and is not in flight."""
    deadline = time.monotonic() + 60
    with api.client(token) as client:
        while True:
            found = client.get(
                "/v1/webhooks/deliveries", params={"recording_uuid": recording_uuid}
            ).json()
            if found and len(found[0]["attempts"]) >= attempts:
                delivery: dict[str, Any] = found[0]
                return delivery
            assert time.monotonic() < deadline, f"no attempt {attempts}: {found}"
            time.sleep(0.05)


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_a_retry_waits_for_its_backoff_on_the_service_clock(
    api: LiveApi,
    service_clock: ManualClock,
    keys: KeyPair,
    receiver: Receiver,
    clips: dict[str, Clip],
) -> None:
    app = api.register(keys)
    token = token_for(app["id"], keys)
    receiver.statuses = [503]
    recording_uuid = _upload(api, token, clips["cards_002.wav"], receiver.url)
    receiver.wait_for(1)
    first = _delivery(api, token, recording_uuid, 1)
    assert first["status"] == "pending"
    wait = (_at(first["next_attempt_at"]) - _at(first["attempts"][0]["at"])).total_seconds()
    assert 0.75 * BACKOFF_S <= wait <= 1.25 * BACKOFF_S  # the backoff, with its jitter
    assert len(receiver.requests) == 1  # not retried while the clock stands still

    service_clock.advance(1.25 * BACKOFF_S + 1)
    receiver.wait_for(2)
    second = _delivery(api, token, recording_uuid, 2)
    assert second["status"] == "delivered" and second["next_attempt_at"] is None
    assert [a["status_code"] for a in second["attempts"]] == [503, 200]
    assert receiver.requests[0].body == receiver.requests[1].body


def test_retries_stop_after_24_hours(
    api: LiveApi,
    service_clock: ManualClock,
    keys: KeyPair,
    receiver: Receiver,
    clips: dict[str, Clip],
) -> None:
    app = api.register(keys)
    token = token_for(app["id"], keys)
    receiver.statuses = [503, 503]
    recording_uuid = _upload(api, token, clips["cards_003.wav"], receiver.url)
    receiver.wait_for(1)
    assert _delivery(api, token, recording_uuid, 1)["status"] == "pending"

    service_clock.advance(DAY_S + 1)
    receiver.wait_for(2)
    last = _delivery(api, token, recording_uuid, 2)
    assert last["status"] == "failed" and last["next_attempt_at"] is None
    assert [a["status_code"] for a in last["attempts"]] == [503, 503]


def test_recordings_past_retention_are_deleted_with_their_files(
    api: LiveApi,
    service_clock: ManualClock,
    keys: KeyPair,
    receiver: Receiver,
    clips: dict[str, Clip],
) -> None:
    app = api.register(keys)
    token = token_for(app["id"], keys)
    recording_uuid = _upload(api, token, clips["goforward.wav"], receiver.url)
    (event,) = receiver.wait_for(1)
    files = Path(api.settings.data_dir) / "files"
    with api.client(token) as client:
        view = client.get(f"/v1/recordings/{recording_uuid}").json()
        urls = [view["recording_url"], event.json()["transcription_url"]]
        stored = {p.name for p in files.glob("*.*")}
        assert {u.rsplit("/", 1)[1] for u in urls} <= {n.split(".")[0] for n in stored}

        service_clock.advance(29 * DAY_S)  # a day before the default 30 days: all still there
        assert all(client.get(u).status_code == 200 for u in urls)
        assert client.get(f"/v1/recordings/{recording_uuid}").status_code == 200

        service_clock.advance(DAY_S + 1)
        # Expired is gone for callers at once, before the periodic purge runs.
        assert all(client.get(u).status_code == 404 for u in urls)
        assert client.get(f"/v1/recordings/{recording_uuid}").status_code == 404
        assert recording_uuid not in {
            r["recording_uuid"] for r in client.get("/v1/recordings").json()["items"]
        }
    # The sweeper's next pass deletes the files themselves.
    deadline = time.monotonic() + 30
    while stored & {p.name for p in files.glob("*.*")}:
        assert time.monotonic() < deadline, "files never purged"
        time.sleep(0.1)

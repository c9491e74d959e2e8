"""Search end to end: real speech uploaded, transcribed by the real model and spaCy, then
found by a word of what was said, at the place the transcript gives it."""

from __future__ import annotations

from typing import Any

from transcribe.client import Client

from live import KeyPair, LiveApi, Receiver, token_for, upload_recording
from speech import Clip


def test_a_transcribed_upload_is_found_by_what_was_said(
    api: LiveApi, keys: KeyPair, receiver: Receiver, clips: dict[str, Clip]
) -> None:
    app = api.register(keys, event_url=receiver.url)
    token = token_for(app["id"], keys)
    with api.client(token) as client:
        before = client.get("/v1/search", params={"q": "country"})
        assert before.status_code == 200 and before.json()["items"] == []

    recording_uuid = upload_recording(api, token, clips["jfk.wav"].samples)
    (event,) = receiver.wait_for(1, timeout=300)
    assert event.json()["status"] == "transcribed", event.json()

    with api.client(token) as client:
        document: dict[str, Any] = client.get(event.json()["transcription_url"]).json()
        hits = client.get("/v1/search", params={"q": "countr*"}).json()["items"]
        phrase = client.get("/v1/search", params={"q": '"fellow americans"'}).json()["items"]
    said = [
        (channel, s["timestamp"], s["sentence"])
        for channel, c in enumerate(document["channels"])
        for s in c["transcript"]
        if "countr" in s["sentence"].lower()
    ]
    assert said, document  # tiny.en hears "country" in JFK's line
    assert [(h["channel"], h["timestamp"], h["sentence"]) for h in hits] == said
    assert all(h["recording_uuid"] == recording_uuid for h in hits)
    assert all("<mark>countr" in h["snippet"].lower() for h in hits)
    assert [h["snippet"].count("<mark>") for h in phrase] == [1]

    # The Python client walks the same hits, a page at a time.
    with Client(api.url, app["id"], keys.private_pem) as python_client:
        walked = list(python_client.search("countr*", page_size=1))
    assert [h.model_dump() for h in walked] == hits

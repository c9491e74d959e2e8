"""`sentimentAnalysis` end to end, as an upload's form field and as an NCCO's
`record.transcription` option: real speech, the real model, the service on loopback. Every
sentence of the document has a `sentiment` when asked, none has one otherwise."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import soundfile as sf

from transcribe.sentiment.scorer import SentimentScorer

from live import KeyPair, LiveApi, Receiver, token_for, upload_recording
from speech import Clip


def transcript(api: LiveApi, token: str, receiver: Receiver, count: int) -> dict[str, Any]:
    """The document of the `count`th `transcribed` webhook."""
    deadline = time.monotonic() + 180
    while True:
        events = [r.json() for r in receiver.wait_for(1)]
        transcribed = [e for e in events if "transcription_url" in e]
        if len(transcribed) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    event = transcribed[count - 1]
    assert event["status"] == "transcribed", event
    with api.client(token) as client:
        response = client.get(event["transcription_url"])
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def test_upload_with_sentiment_analysis(
    api: LiveApi, keys: KeyPair, receiver: Receiver, clips: dict[str, Clip]
) -> None:
    app = api.register(keys)
    token = token_for(app["id"], keys)
    samples = clips["jfk.wav"].samples

    upload_recording(api, token, samples, eventUrl=receiver.url, sentimentAnalysis="true")
    asked = transcript(api, token, receiver, 1)
    sentences = [s for channel in asked["channels"] for s in channel["transcript"]]
    assert sentences
    scorer = SentimentScorer()
    for sentence in sentences:
        assert isinstance(sentence["sentiment"], float)
        assert -1.0 <= sentence["sentiment"] <= 1.0
        assert sentence["sentiment"] == scorer.score(sentence["sentence"])

    upload_recording(api, token, samples, eventUrl=receiver.url)
    plain = transcript(api, token, receiver, 2)
    assert [s["sentence"] for c in plain["channels"] for s in c["transcript"]] == [
        s["sentence"] for s in sentences
    ]
    assert all("sentiment" not in s for c in plain["channels"] for s in c["transcript"])


def test_a_bad_sentiment_analysis_value_is_named(api: LiveApi, keys: KeyPair) -> None:
    app = api.register(keys)
    with api.client(token_for(app["id"], keys)) as client:
        response = client.post(
            "/v1/transcriptions",
            files={"file": ("call.wav", b"RIFF", "audio/wav")},
            data={"sentimentAnalysis": "perhaps"},
        )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert "sentimentAnalysis" in str(problem.get("invalid_parameters")), problem


def wav(samples: Any) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, 16000, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def test_ncco_record_transcription_with_sentiment_analysis(
    api: LiveApi, keys: KeyPair, receiver: Receiver, clips: dict[str, Clip]
) -> None:
    app = api.register(keys)
    token = token_for(app["id"], keys)
    record = {
        "action": "record",
        "split": "conversation",
        "format": "wav",
        "eventUrl": [receiver.url],
        "transcription": {"language": "en-US", "sentimentAnalysis": True},
    }
    with api.client(token) as client:
        live = client.post("/v1/conversations", json={"ncco": [record]})
        assert live.status_code == 201, live.text  # a live call takes the option too
        rendered = client.post(
            "/v1/recordings",
            data={"record": json.dumps(record), "offset_ms": ["0", "1500"]},
            files=[
                ("leg", ("caller.wav", wav(clips["jfk.wav"].samples), "audio/wav")),
                ("leg", ("agent.wav", wav(clips["cards_005.wav"].samples), "audio/wav")),
            ],
        )
        assert rendered.status_code == 202, rendered.text
    document = transcript(api, token, receiver, 1)
    assert len(document["channels"]) == 2
    sentences = [s for channel in document["channels"] for s in channel["transcript"]]
    assert len(sentences) >= 2
    assert all(-1.0 <= s["sentiment"] <= 1.0 for s in sentences)

"""`sentimentAnalysis` on POST /v1/transcriptions, end to end: real speech, the real model,
the service on loopback. Every sentence of the document has a `sentiment` when asked, none
has one otherwise."""

from __future__ import annotations

from typing import Any

from transcribe.sentiment.scorer import SentimentScorer

from live import KeyPair, LiveApi, Receiver, token_for, upload_recording
from speech import Clip


def transcript(api: LiveApi, token: str, receiver: Receiver, count: int) -> dict[str, Any]:
    """The document the `count`th webhook points to."""
    event = receiver.wait_for(count)[count - 1].json()
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

"""NCCOs built with Vonage's own Python SDK (`vonage-voice`), every field of every action set,
posted to POST /v1/conversations: all accepted, the ones that need a phone network listed as
ignored; the same NCCOs with any one field broken: a 422 naming that action and field."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel
from vonage_voice.models.common import AdvancedMachineDetection, WebsocketAuthorization
from vonage_voice.models.connect_endpoints import (
    AppEndpoint,
    OnAnswer,
    PhoneEndpoint,
    SipEndpoint,
    VbcEndpoint,
    WebsocketEndpoint,
)
from vonage_voice.models.input_types import Dtmf, Speech
from vonage_voice.models.ncco import (
    Connect,
    Conversation,
    Input,
    Notify,
    Record,
    Stream,
    Talk,
    Transfer,
    Wait,
)

from live import KeyPair, LiveApi, token_for

API_SETTINGS = {"embedded_worker": False}  # nothing here is rendered or delivered

URL = "https://example.com"
LEG = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
# Not in vonage-voice 1.5.1's Record model, but in Vonage's NCCO reference (and the sentiment
# flag is what its SDK users set): added to the record action as the SDK user would.
TRANSCRIPTION = {
    "language": "en-GB",
    "eventUrl": [f"{URL}/transcribed"],
    "eventMethod": "POST",
    "sentimentAnalysis": True,
}


def every_field_set(model: BaseModel) -> None:
    """The SDK model (and every model in it) has every one of its fields set."""
    for name in type(model).model_fields:
        value = getattr(model, name)
        assert value is not None, f"{type(model).__name__}.{name} is not set"
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, BaseModel):
                every_field_set(item)


def sdk_nccos() -> list[list[BaseModel]]:
    """NCCOs that set every field of every action and endpoint the SDK has, between them
    (a connect action holds one endpoint, and `from` and `randomFromNumber` exclude each
    other)."""
    record = Record(
        format="wav",
        split="conversation",
        channels=2,
        endOnSilence=3,
        endOnKey="#",
        timeOut=60,
        beepStart=True,
        eventUrl=[f"{URL}/record"],
        eventMethod="POST",
    )
    conversation = Conversation(
        name="sdk-room",
        musicOnHoldUrl=[f"{URL}/hold.mp3"],
        startOnEnter=True,
        endOnExit=True,
        record=True,
        canSpeak=[LEG],
        canHear=[LEG],
        mute=False,
        eventUrl=[f"{URL}/conversation"],
        eventMethod="GET",
    )
    talk = Talk(
        text="Hello", bargeIn=True, loop=2, level=0.5, language="en-GB", style=1, premium=True
    )
    stream = Stream(streamUrl=[f"{URL}/a.mp3"], level=-0.5, bargeIn=False, loop=0)
    user_input = Input(
        type=["dtmf", "speech"],
        dtmf=Dtmf(timeOut=5, maxDigits=4, submitOnHash=True),
        speech=Speech(
            uuid=[LEG],
            endOnSilence=1.5,
            language="en-US",
            context=["support", "billing"],
            startTimeout=10,
            maxDuration=30,
            saveAudio=True,
            sensitivity=50,
        ),
        eventUrl=[f"{URL}/input"],
        eventMethod="POST",
    )
    phone = Connect(
        endpoint=[
            PhoneEndpoint(
                number="447700900001",
                dtmfAnswer="1p2#",
                onAnswer=OnAnswer(url=f"{URL}/answer", ringbackTone=f"{URL}/ring.mp3"),
                shaken="eyJhbGciOiJFUzI1NiJ9.e30.sig",
            )
        ],
        from_="447700900000",
        randomFromNumber=False,
        eventType="synchronous",
        timeout=30,
        limit=3600,
        machineDetection="hangup",
        advancedMachineDetection=AdvancedMachineDetection(
            behavior="continue", mode="detect_beep", beep_timeout=60
        ),
        eventUrl=[f"{URL}/connect"],
        eventMethod="POST",
        ringbackTone=[f"{URL}/ring.mp3"],
    )
    others = [
        AppEndpoint(user="alice"),
        WebsocketEndpoint(
            uri="wss://example.com/socket",
            contentType="audio/l16;rate=16000",
            headers={"customer": "42"},
            authorization=WebsocketAuthorization(type="custom", value="Bearer x"),
        ),
        SipEndpoint(
            uri="sip:alice@example.com",
            headers={"customer": "42"},
            standardHeaders={"User-to-User": "342342ef34;encoding=hex"},
        ),
        VbcEndpoint(extension="1234"),
    ]
    connects = [Connect(endpoint=[endpoint], randomFromNumber=True) for endpoint in others]
    notify = Notify(
        payload={"step": "greeted", "n": 1}, eventUrl=[f"{URL}/notify"], eventMethod="POST"
    )
    wait = Wait(timeout=2.5)
    transfer = Transfer(conversationId="CON-1234", canHear=[LEG], canSpeak=[LEG], mute=False)
    for model in [record, conversation, talk, stream, user_input, phone, notify, wait, transfer]:
        every_field_set(model)
    return [
        [talk, notify, record, stream, user_input, wait, conversation],
        [phone, *connects, transfer, Record()],
    ]


def dump(ncco: list[BaseModel]) -> list[dict[str, Any]]:
    """The NCCO as the SDK serialises it, with `transcription` on the record action."""
    actions = [a.model_dump(by_alias=True, exclude_none=True, mode="json") for a in ncco]
    for action in actions:
        if action["action"] == "record" and "format" in action:
            action["transcription"] = dict(TRANSCRIPTION)
    return actions


def post(api: LiveApi, token: str, ncco: list[dict[str, Any]]) -> Any:
    with api.client(token) as client:
        return client.post("/v1/conversations", json={"ncco": ncco})


def test_every_action_and_field_the_sdk_builds_is_accepted(api: LiveApi, keys: KeyPair) -> None:
    token = token_for(api.register(keys)["id"], keys)
    first, second = (dump(ncco) for ncco in sdk_nccos())

    response = post(api, token, first)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["legs_url"].endswith(f"/v1/conversations/{body['conversation_uuid']}/legs")
    ignored = {(i["index"], i["action"]) for i in body["ignored_actions"]}
    assert ignored == {(0, "talk"), (3, "stream"), (4, "input"), (5, "wait")}
    assert all(i["reason"] for i in body["ignored_actions"])
    assert [f["name"] for f in body["ignored_fields"]] == [
        "ncco[6].musicOnHoldUrl",
        "ncco[6].canHear",
    ]

    response = post(api, token, second)
    assert response.status_code == 201, response.text
    assert [i["action"] for i in response.json()["ignored_actions"]] == ["connect"] * 5 + [
        "transfer"
    ]


def leaves(value: Any, path: str) -> Iterator[tuple[str, list[str | int]]]:
    """(name as the API spells it, path of keys) for every field of an action, nested models
    and endpoints included; the free-form objects (`payload`, `headers`) count as one field."""
    for key, item in value.items():
        name = f"{path}.{key}"
        if isinstance(item, dict) and key not in ("payload", "headers", "standardHeaders"):
            for inner, keys in leaves(item, name):
                yield inner, [key, *keys]
        elif isinstance(item, list) and item and isinstance(item[0], dict):
            for inner, keys in leaves(item[0], f"{name}[0]"):
                yield inner, [key, 0, *keys]
        yield name, [key]


def broken(value: Any, key: str) -> Any:
    """A value no field takes in place of `value`."""
    if key in ("action", "type") and isinstance(value, str):
        return "no-such-" + value
    if isinstance(value, dict):
        return "not an object"
    return {"not": "valid"}


def test_any_one_broken_field_is_a_422_naming_it(api: LiveApi, keys: KeyPair) -> None:
    token = token_for(api.register(keys)["id"], keys)
    checked = 0
    for ncco in (dump(ncco) for ncco in sdk_nccos()):
        for index, action in enumerate(ncco):
            for name, keys_path in leaves(action, f"ncco[{index}]"):
                bad = copy.deepcopy(ncco)
                target: Any = bad[index]
                for key in keys_path[:-1]:
                    target = target[key]
                last = keys_path[-1]
                target[last] = broken(target[last], str(last))
                response = post(api, token, bad)
                assert response.status_code == 422, (name, response.text)
                named = [p["name"] for p in response.json()["invalid_parameters"]]
                assert named and all(n.startswith(name) for n in named), (name, named)
                checked += 1
            unknown = copy.deepcopy(ncco)
            unknown[index]["endOnSilense"] = 3
            response = post(api, token, unknown)
            assert response.status_code == 422
            problem = response.json()["invalid_parameters"]
            assert problem == [
                {"name": f"ncco[{index}].endOnSilense", "reason": "not a known option"}
            ]
    assert checked > 100  # every field of every action, nested ones included


@pytest.mark.parametrize(
    ("action", "name", "words"),
    [
        ({"action": "talk", "text": "x" * 1501}, "ncco[0].text", "at most 1500"),
        (
            {"action": "talk", "text": "hi", "level": 1.5},
            "ncco[0].level",
            "less than or equal to 1",
        ),
        ({"action": "stream", "streamUrl": ["file:///etc/passwd"]}, "ncco[0].streamUrl", "http"),
        (
            {"action": "notify", "payload": {}, "eventUrl": ["gopher://example.com/"]},
            "ncco[0].eventUrl",
            "http:// or https://",
        ),
        ({"action": "notify", "payload": {}}, "ncco[0].eventUrl", "required"),
        (
            {"action": "conversation", "name": "r", "mute": True, "canSpeak": [LEG]},
            "ncco[0].mute",
            "canSpeak",
        ),
        (
            {"action": "conversation", "name": "r", "transcription": {}},
            "ncco[0].transcription",
            "record: true",
        ),
        (
            {"action": "connect", "endpoint": [{"type": "phone", "number": "12"}], "from": "1"},
            "ncco[0].endpoint[0].number",
            "pattern",
        ),
        (
            {"action": "input", "type": ["dtmf"], "dtmf": {"maxDigits": 21}},
            "ncco[0].dtmf.maxDigits",
            "less than or equal to 20",
        ),
        (
            {"action": "record", "transcription": {"sentimentAnalysis": "yes"}},
            "ncco[0].transcription.sentimentAnalysis",
            "boolean",
        ),
    ],
)
def test_ranges_and_rules_of_the_reference(
    api: LiveApi, keys: KeyPair, action: dict[str, Any], name: str, words: str
) -> None:
    token = token_for(api.register(keys)["id"], keys)
    response = post(api, token, [action, {"action": "record"}])
    assert response.status_code == 422, response.text
    problem = response.json()["invalid_parameters"][0]
    assert problem["name"] == name and words in problem["reason"], problem

"""Every /v1 call needs an RS256 JWT of a registered application; each bad token is a 401."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

from live import KeyPair, LiveApi, new_keypair, token_for

API_SETTINGS = {"embedded_worker": False}  # no model: these calls never reach it


@pytest.fixture(scope="module")
def app_id(api: LiveApi, keys: KeyPair) -> str:
    return str(api.register(keys)["id"])


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(app_id: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"application_id": app_id, "iat": now, "exp": now + 300, "jti": "j-1"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def test_a_valid_token_is_accepted(api: LiveApi, keys: KeyPair, app_id: str) -> None:
    with api.client(token_for(app_id, keys)) as client:
        assert client.get("/v1/recordings").status_code == 200


BAD_TOKENS = {
    "no header": lambda app_id, keys: None,
    "not a JWT": lambda app_id, keys: "hello",
    "unsigned (alg none)": lambda app_id, keys: (
        f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(app_id))}."
    ),
    "HS256 keyed with the public key": lambda app_id, keys: _hs256_with_public_key(app_id, keys),
    "expired": lambda app_id, keys: jwt.encode(
        _claims(app_id, iat=int(time.time()) - 4000, exp=int(time.time()) - 3600),
        keys.private_pem,
        algorithm="RS256",
    ),
    "not yet valid": lambda app_id, keys: jwt.encode(
        _claims(app_id, nbf=int(time.time()) + 3600), keys.private_pem, algorithm="RS256"
    ),
    "unknown application": lambda app_id, keys: token_for(
        "00000000-0000-4000-8000-000000000000", keys
    ),
    "signed by another key": lambda app_id, keys: token_for(app_id, new_keypair()),
    "no exp claim": lambda app_id, keys: jwt.encode(
        _claims(app_id, exp=None), keys.private_pem, algorithm="RS256"
    ),
    "no jti claim": lambda app_id, keys: jwt.encode(
        _claims(app_id, jti=None), keys.private_pem, algorithm="RS256"
    ),
}


def _hs256_with_public_key(app_id: str, keys: KeyPair) -> str:
    """The classic key-confusion attack, built by hand (PyJWT refuses to sign it)."""
    import hashlib
    import hmac

    header = _b64({"alg": "HS256", "typ": "JWT"})
    payload = _b64(_claims(app_id))
    signing_input = f"{header}.{payload}".encode()
    mac = hmac.new(keys.public_pem.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_bad_tokens_are_401_with_a_reason(
    api: LiveApi, keys: KeyPair, app_id: str, case: str
) -> None:
    token = BAD_TOKENS[case](app_id, keys)
    with api.client(token) as client:
        for method, path in [
            ("GET", "/v1/recordings"),
            ("GET", "/v1/recordings/00000000-0000-4000-8000-000000000000"),
            ("GET", "/v1/files/00000000-0000-4000-8000-000000000000"),
            ("GET", "/v1/webhooks/deliveries"),
        ]:
            response = client.request(method, path)
            assert response.status_code == 401, (case, path, response.text)
            body = response.json()
            assert body["title"] == "Unauthorized" and body["detail"]
            assert response.headers["www-authenticate"] == "Bearer"


def test_admin_token_guards_application_registration(api: LiveApi, keys: KeyPair) -> None:
    body = {"name": "x", "public_key": keys.public_pem}
    with api.client("wrong") as client:
        assert client.post("/v1/applications", json=body).status_code == 401
    with api.client() as client:
        assert client.post("/v1/applications", json=body).status_code == 401


@pytest.mark.parametrize(
    "body,field",
    [
        ({"name": "x", "public_key": "not a key"}, "public_key"),
        ({"name": "", "public_key": "x"}, "name"),
        ({"name": "x"}, "public_key"),
        ({"name": "x", "public_key": "k", "event_url": "ftp://nope"}, "event_url"),
        ({"name": "x", "public_key": "k", "event_method": "PUT"}, "event_method"),
    ],
)
def test_bad_application_bodies_name_the_field(
    api: LiveApi, body: dict[str, Any], field: str
) -> None:
    with api.client("test-admin-token") as client:
        response = client.post("/v1/applications", json=body)
        assert response.status_code == 422, response.text
        names = [p["name"] for p in response.json()["invalid_parameters"]]
        assert field in names

"""Every /v1 call needs an RS256 JWT of a registered application; each bad token is a 401."""

from __future__ import annotations

import base64
import json
import time
import tracemalloc
from typing import Any

import jwt
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from transcribe.auth import TokenVerifier
from transcribe.config import Settings
from transcribe.errors import AuthError
from transcribe.limits import MAX_TOKEN_CHARS

from live import KeyPair, LiveApi, new_keypair, token_for

# No model: these calls never reach it. Tokens may live an hour, with two minutes of skew.
API_SETTINGS = {"embedded_worker": False, "max_token_lifetime_s": 3600, "token_leeway_s": 120}


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


# -- the size of the Authorization header --------------------------------------------------

NOWHERE = "00000000-0000-4000-8000-000000000000"
ENTRIES = [
    ("GET", "/v1/recordings"),
    ("GET", f"/v1/files/{NOWHERE}"),
    ("DELETE", f"/v1/files/{NOWHERE}"),
    ("POST", "/v1/conversations"),
    ("POST", "/v1/applications"),
]


@pytest.mark.parametrize("method,path", ENTRIES)
def test_an_authorization_header_over_8_kib_is_431_naming_it(
    api: LiveApi, keys: KeyPair, app_id: str, method: str, path: str
) -> None:
    """Refused by its size alone: this one holds a token that would verify."""
    token = token_for(app_id, keys, padding="x" * 7000)
    assert len(f"Bearer {token}") > MAX_TOKEN_CHARS
    with api.client(token) as client:
        response = client.request(method, path, json={"ncco": [{"action": "record"}]})
    assert response.status_code == 431, response.text
    body = response.json()
    assert body["title"] == "Request header fields too large"
    assert f"the limit is {MAX_TOKEN_CHARS}" in body["detail"]
    assert body["invalid_parameters"][0]["name"] == "Authorization"


def test_a_header_at_the_limit_is_read_as_a_token(api: LiveApi, keys: KeyPair, app_id: str) -> None:
    token = token_for(app_id, keys, padding="x" * 5000)
    assert len(f"Bearer {token}") <= MAX_TOKEN_CHARS
    with api.client(token) as client:
        assert client.get("/v1/recordings").status_code == 200
    with api.client("x" * (MAX_TOKEN_CHARS - len("Bearer "))) as client:
        response = client.get("/v1/recordings")
    assert response.status_code == 401 and "not a JWT" in response.json()["detail"]


def test_a_leg_with_an_oversize_token_never_opens(api: LiveApi, keys: KeyPair, app_id: str) -> None:
    """The WebSocket server itself refuses a handshake line over 8 KiB: 431 for a header,
    414 for the URL holding a `token` parameter. The leg never reaches the service."""
    token = token_for(app_id, keys)
    with api.client(token) as client:
        created = client.post("/v1/conversations", json={"ncco": [{"action": "record"}]})
    legs_url = created.json()["legs_url"]
    oversize = token_for(app_id, keys, padding="x" * 7000)
    for url, headers, status in [
        (legs_url, {"Authorization": f"Bearer {oversize}"}, 431),
        (f"{legs_url}?token={oversize}", {}, 414),
    ]:
        with pytest.raises(InvalidStatus) as refused:
            connect(url, additional_headers=headers, open_timeout=10)
        assert refused.value.response.status_code == status


# -- how long a token may live, and the clock skew forgiven ---------------------------------


def _signed(app_id: str, keys: KeyPair, iat: float, exp: float) -> str:
    claims = _claims(app_id, iat=int(time.time() + iat), exp=int(time.time() + exp))
    return jwt.encode(claims, keys.private_pem, algorithm="RS256")


def test_a_token_living_longer_than_the_setting_is_401(
    api: LiveApi, keys: KeyPair, app_id: str
) -> None:
    with api.client(token_for(app_id, keys, ttl_s=3600)) as client:
        assert client.get("/v1/recordings").status_code == 200
    with api.client(token_for(app_id, keys, ttl_s=3601)) as client:
        response = client.get("/v1/recordings")
    assert response.status_code == 401
    assert "lives 3601 s (exp - iat)" in response.json()["detail"]
    assert "at most 3600 s" in response.json()["detail"]


def test_clock_skew_within_the_leeway_setting_is_forgiven(
    api: LiveApi, keys: KeyPair, app_id: str
) -> None:
    """Two minutes of leeway: expired a minute ago still works, five minutes ago does not."""
    with api.client(_signed(app_id, keys, iat=-600, exp=-60)) as client:
        assert client.get("/v1/recordings").status_code == 200
    with api.client(_signed(app_id, keys, iat=-900, exp=-300)) as client:
        response = client.get("/v1/recordings")
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def _verifier(keys: KeyPair, entries: int = 100) -> TokenVerifier:
    """A TokenVerifier as the service builds it from default settings."""
    defaults = Settings()
    return TokenVerifier(
        lambda _: keys.public_pem,
        leeway_s=defaults.token_leeway_s,
        max_lifetime_s=defaults.max_token_lifetime_s,
        entries=entries,
    )


def test_by_default_tokens_live_a_day_at_most_with_30_s_of_leeway(keys: KeyPair) -> None:
    verifier = _verifier(keys)
    assert verifier.verify(_signed("app", keys, iat=0, exp=24 * 3600)) == "app"
    assert verifier.verify(_signed("app", keys, iat=-600, exp=-20)) == "app"
    with pytest.raises(AuthError, match="at most 86400 s"):
        verifier.verify(_signed("app", keys, iat=0, exp=24 * 3600 + 1))
    with pytest.raises(AuthError, match="expired"):
        verifier.verify(_signed("app", keys, iat=-600, exp=-60))


# -- the memory of verified tokens -----------------------------------------------------------


def test_the_token_memory_forgets_the_oldest_when_full(keys: KeyPair) -> None:
    verifier = _verifier(keys, entries=2)
    tokens = [token_for("app", keys) for _ in range(3)]
    for token in tokens:
        verifier.verify(token)
    assert [verifier.cached(t) for t in tokens] == [None, "app", "app"]


def test_the_token_memory_keeps_a_digest_not_the_token(keys: KeyPair) -> None:
    """Each request brings its own copy of the token; remembering 100 tokens of 8 KB each
    must not keep 800 KB of them alive."""
    verifier = _verifier(keys)
    tokens = [token_for("app", keys, padding=f"{n:06d}" * 1000) for n in range(100)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for token in tokens:
            verifier.verify("".join(token))  # a copy, as a request header would be
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert all(verifier.cached(t) == "app" for t in tokens)
    assert kept < 100 * 1024, f"{kept} bytes kept for 100 tokens of {len(tokens[0])} characters"

"""Schemathesis drives every operation of /openapi.json with generated input: never a 500."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from live import LiveApi, new_keypair, token_for

API_SETTINGS = {"embedded_worker": False}  # no model: the fuzzer tests the HTTP layer


@pytest.fixture(scope="module")
def fuzzed(api: LiveApi) -> tuple[LiveApi, str]:
    keys = new_keypair()
    app = api.register(keys)
    return api, token_for(app["id"], keys, ttl_s=3600)


def fuzz(operation: Any, base_url: str, bearer: str) -> None:
    """Up to 25 generated requests for one operation; none may answer 5xx."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def call(case: Any) -> None:
        response = case.call_and_validate(
            base_url=base_url,
            headers={"Authorization": f"Bearer {bearer}"},
            checks=[not_a_server_error],
        )
        if response.status_code >= 400 and response.status_code != 405:
            assert response.headers["content-type"][0].startswith("application/json")
            assert {"type", "title", "detail"} <= set(response.json())

    call()


def test_no_input_makes_a_server_error(fuzzed: tuple[LiveApi, str]) -> None:
    api, token = fuzzed
    schema = schemathesis.openapi.from_url(f"{api.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:
        admin = operation.path == "/v1/applications"
        fuzz(operation, api.url, "test-admin-token" if admin else token)

"""Sign-in attempts are limited per email and per client address: past the limit, RATE_LIMITED
with retryAfter and a Retry-After header; with REDIS_URL, processes count together."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from infrastructure.settings import Settings
from tests.integration.accounts_client import (
    NETWORK,
    PASSWORD,
    error_code,
    register,
    served,
    sign_in,
)

REDIS = "redis://127.0.0.1:6379/0"


def limited(settings: Settings, **more: Any) -> dict[str, Any]:
    namespace = f"test-{uuid.uuid4().hex}"  # Redis is shared: each test counts alone
    return {
        **NETWORK,
        "genai_sign_in_limit": "3/minute",
        "genai_rate_limit_namespace": namespace,
        **more,
    }


def assert_rate_limited(response: httpx.Response) -> None:
    assert response.status_code == 429
    assert error_code(response) == "RATE_LIMITED"
    wait = response.json()["errors"][0]["extensions"]["retryAfter"]
    assert isinstance(wait, int) and 1 <= wait <= 60
    assert response.headers["retry-after"] == str(wait)


def test_attempts_on_one_email_are_limited_even_with_the_right_password(settings: Settings) -> None:
    with served(settings, **limited(settings)) as client:
        register(client, "ada@example.com")
        for _ in range(2):
            assert sign_in(client, "ada@example.com", "wrong guess!").status_code == 401
        assert sign_in(client, "ada@example.com").status_code == 200
        assert_rate_limited(sign_in(client, "ada@example.com", PASSWORD))


def test_attempts_from_one_client_are_limited_across_emails(settings: Settings) -> None:
    with served(settings, **limited(settings)) as client:
        for n in range(3):
            assert sign_in(client, f"user{n}@example.com").status_code == 401
        assert_rate_limited(sign_in(client, "user9@example.com"))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=False)
def test_with_redis_two_processes_share_the_count(settings: Settings) -> None:
    shared = limited(settings, redis_url=REDIS)
    with served(settings, **shared) as first:
        register(first, "ada@example.com")
        assert sign_in(first, "ada@example.com", "wrong guess!").status_code == 401
        assert sign_in(first, "ada@example.com", "wrong guess!").status_code == 401
    with served(settings, **shared) as second:  # a new process: nothing in its memory
        assert sign_in(second, "ada@example.com", "wrong guess!").status_code == 401
        assert_rate_limited(sign_in(second, "ada@example.com"))
    with served(settings, **{**shared, "redis_url": None}) as alone:  # memory: its own count
        assert sign_in(alone, "ada@example.com").status_code == 200

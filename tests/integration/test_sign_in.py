"""Signing in, refreshing, signing out and changing the password, over HTTP, on a server
bound to a network address (where sign-in is required), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from infrastructure.settings import Settings
from tests.integration.accounts_client import (
    ME,
    NETWORK,
    PASSWORD,
    AsPrincipal,
    error_code,
    every_stored_byte,
    refresh,
    refresh_cookie,
    register,
    served,
    sign_in,
    signed_in_gql,
    stored_events,
)
from tests.integration.gql import GraphQLError


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with served(settings, **NETWORK) as c:
        yield c


def test_a_user_signs_in_is_known_by_the_api_and_signs_out(client: TestClient) -> None:
    user_id = register(client, "Ada@Example.com", name="Ada")
    response = sign_in(client, "ada@example.com")
    assert response.status_code == 200
    body = response.json()
    assert body["tokenType"] == "Bearer"
    assert body["user"] == {
        "id": user_id,
        "email": "ada@example.com",
        "name": "Ada",
        "admin": False,
        "local": False,
    }
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/auth" in cookie
    assert "Secure" not in cookie  # plain http (a TLS front sets GENAI_PUBLIC_URL=https://…)

    me = AsPrincipal(client, body["accessToken"])(ME)["me"]
    assert me == {
        "id": user_id,
        "email": "ada@example.com",
        "name": "Ada",
        "admin": False,
        "local": False,
    }

    with pytest.raises(GraphQLError) as anonymous:
        AsPrincipal(client, None)(ME)
    assert anonymous.value.code == "UNAUTHENTICATED"

    token = refresh_cookie(response)
    client.cookies.clear()
    client.cookies.set("genai_refresh", token, path="/auth")
    out = client.post("/auth/sign-out")
    assert out.status_code == 204
    assert refresh(client, token).status_code == 401


def test_a_wrong_password_and_an_unknown_email_are_refused_alike(client: TestClient) -> None:
    register(client, "ada@example.com")
    wrong = sign_in(client, "ada@example.com", "not the password")
    unknown = sign_in(client, "nobody@example.com", PASSWORD)
    assert (wrong.status_code, unknown.status_code) == (401, 401)
    assert error_code(wrong) == error_code(unknown) == "UNAUTHENTICATED"
    assert wrong.json()["errors"][0]["message"] == unknown.json()["errors"][0]["message"]
    assert "set-cookie" not in wrong.headers


def test_malformed_bodies_are_clean_errors(client: TestClient) -> None:
    for body in (b"not json", b'"a string"', b'{"email": 1, "password": "x"}', b"\xff\xfe"):
        response = client.post(
            "/auth/sign-in", content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert error_code(response) == "BAD_USER_INPUT"


def test_a_refresh_token_rotates_and_a_reused_one_ends_the_session(client: TestClient) -> None:
    register(client, "ada@example.com")
    first = refresh_cookie(sign_in(client, "ada@example.com"))

    rotated = refresh(client, first)
    assert rotated.status_code == 200
    second = refresh_cookie(rotated)
    assert second != first
    assert (
        AsPrincipal(client, rotated.json()["accessToken"])(ME)["me"]["email"] == "ada@example.com"
    )

    reused = refresh(client, first)  # a copy of the old token: someone else holds it
    assert reused.status_code == 401
    assert error_code(reused) == "UNAUTHENTICATED"
    assert refresh(client, second).status_code == 401  # the whole family is revoked
    assert refresh(client, None).status_code == 401
    assert refresh(client, "grt_made-up").status_code == 401


def test_a_disabled_user_can_neither_sign_in_nor_use_a_session(client: TestClient) -> None:
    register(client, "ada@example.com")
    response = sign_in(client, "ada@example.com")
    gql = AsPrincipal(client, response.json()["accessToken"])
    accounts = client.app.state.services.accounts  # type: ignore[attr-defined]
    accounts.users.disable("ada@example.com", "tests")

    with pytest.raises(GraphQLError) as access:
        gql(ME)
    assert access.value.code == "UNAUTHENTICATED"
    assert refresh(client, refresh_cookie(response)).status_code == 401
    refused = sign_in(client, "ada@example.com")
    assert refused.status_code == 401 and error_code(refused) == "UNAUTHENTICATED"

    accounts.users.enable("ada@example.com", "tests")
    assert sign_in(client, "ada@example.com").status_code == 200


def test_changing_the_password_ends_the_other_sessions(client: TestClient) -> None:
    user_id = register(client, "ada@example.com")
    here = sign_in(client, "ada@example.com")
    there = sign_in(client, "ada@example.com")
    here_cookie, there_cookie = refresh_cookie(here), refresh_cookie(there)

    client.cookies.clear()
    client.cookies.set("genai_refresh", here_cookie, path="/auth")
    changed = client.post(
        "/auth/password",
        json={"currentPassword": PASSWORD, "newPassword": "a brand new secret"},
        headers={"Authorization": f"Bearer {here.json()['accessToken']}"},
    )
    assert changed.status_code == 204

    assert refresh(client, there_cookie).status_code == 401
    assert refresh(client, here_cookie).status_code == 200
    assert sign_in(client, "ada@example.com").status_code == 401
    assert sign_in(client, "ada@example.com", "a brand new secret").status_code == 200

    names = [type(e).__name__ for e in stored_events(client, user_id)]
    assert names == ["UserRegistered", "PasswordChanged"]
    stored = every_stored_byte(client)
    for secret in (PASSWORD, "a brand new secret", "argon2"):
        assert secret.encode() not in stored


def test_changing_the_password_needs_the_current_one_and_a_signed_in_user(
    client: TestClient,
) -> None:
    register(client, "ada@example.com")
    access = sign_in(client, "ada@example.com").json()["accessToken"]
    wrong = client.post(
        "/auth/password",
        json={"currentPassword": "guess guess guess", "newPassword": "a brand new secret"},
        headers={"Authorization": f"Bearer {access}"},
    )
    assert wrong.status_code == 401
    short = client.post(
        "/auth/password",
        json={"currentPassword": PASSWORD, "newPassword": "short"},
        headers={"Authorization": f"Bearer {access}"},
    )
    assert short.status_code == 400 and error_code(short) == "BAD_USER_INPUT"
    anonymous = client.post(
        "/auth/password", json={"currentPassword": PASSWORD, "newPassword": "a brand new secret"}
    )
    assert anonymous.status_code == 401
    assert sign_in(client, "ada@example.com").status_code == 200  # unchanged


def test_an_email_is_registered_once(client: TestClient) -> None:
    register(client, "ada@example.com")
    with pytest.raises(Exception, match="exists"):
        register(client, "ADA@example.com")


def test_signed_in_me_is_the_user_not_the_local_owner(client: TestClient) -> None:
    register(client, "ada@example.com")
    assert signed_in_gql(client, "ada@example.com")(ME)["me"]["local"] is False

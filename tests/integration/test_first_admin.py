"""Secure by default, easy locally: on loopback the local owner is signed in automatically;
on any other address sign-in is required, and a first start with no user prints a one-time
link that creates the first admin."""

from __future__ import annotations

import re

import pytest

from infrastructure.settings import Settings
from tests.integration.accounts_client import (
    ME,
    NETWORK,
    WORKSPACES,
    AsPrincipal,
    error_code,
    served,
    signed_in_gql,
)
from tests.integration.gql import GQL, GraphQLError

LINK = re.compile(r"(http://\S+)/setup\?token=(gsu_\S+)")


def test_on_loopback_the_local_owner_is_signed_in_and_admin_of_a_workspace(
    settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    with served(settings) as client:
        gql = GQL(client)
        assert gql(ME)["me"] == {
            "id": "local",
            "email": None,
            "name": "Local owner",
            "admin": True,
            "local": True,
        }
        assert gql(WORKSPACES)["workspaces"] == [
            {"id": "0b1d2c9e-6a47-4c1e-9f0a-3d5e2a7c4b10", "name": "My workspace", "role": "ADMIN"}
        ]
        assert client.get("/auth/session").json() == {
            "signInRequired": False,
            "signedIn": True,
            "setupRequired": False,
            "singleSignOn": None,
        }
        # a client that sends credentials means them: a bad one is nobody, not the owner
        with pytest.raises(GraphQLError) as bad:
            AsPrincipal(client, "not-a-token")(ME)
        assert bad.value.code == "UNAUTHENTICATED"
    assert "setup?token" not in capfd.readouterr().err


def test_required_sign_in_on_loopback_when_the_setting_says_so(settings: Settings) -> None:
    with served(settings, genai_require_sign_in=True) as client:
        with pytest.raises(GraphQLError) as anonymous:
            GQL(client)(ME)
        assert anonymous.value.code == "UNAUTHENTICATED"


def test_on_a_network_address_nothing_is_signed_in_and_a_link_makes_the_first_admin(
    settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    with served(settings, **NETWORK, genai_public_url="http://stack.example:8000") as client:
        for query in (ME, WORKSPACES):
            with pytest.raises(GraphQLError) as anonymous:
                GQL(client)(query)
            assert anonymous.value.code == "UNAUTHENTICATED"
        assert client.get("/auth/session").json() == {
            "signInRequired": True,
            "signedIn": False,
            "setupRequired": True,
            "singleSignOn": None,
        }
        printed = LINK.search(capfd.readouterr().err)
        assert printed is not None and printed.group(1) == "http://stack.example:8000"
        token = printed.group(2)

        page = client.get(f"/setup?token={token}")
        assert page.status_code == 200 and f'value="{token}"' in page.text

        wrong = client.post(
            "/setup",
            json={"token": "gsu_guess", "email": "ada@example.com", "password": "a good password"},
        )
        assert wrong.status_code == 401 and error_code(wrong) == "UNAUTHENTICATED"
        weak = client.post(
            "/setup", json={"token": token, "email": "ada@example.com", "password": "short"}
        )
        assert weak.status_code == 400  # refused before the link is spent

        made = client.post(
            "/setup",
            json={
                "token": token,
                "email": "ada@example.com",
                "password": "a good password",
                "name": "Ada",
            },
        )
        assert made.status_code == 201, made.text
        assert made.json()["user"]["admin"] is True

        again = client.post(
            "/setup",
            json={"token": token, "email": "eve@example.com", "password": "a good password"},
        )
        assert again.status_code == 403 and error_code(again) == "FORBIDDEN"

        admin = signed_in_gql(client, "ada@example.com", "a good password")
        assert admin(WORKSPACES)["workspaces"] == [
            {"id": "0b1d2c9e-6a47-4c1e-9f0a-3d5e2a7c4b10", "name": "My workspace", "role": "ADMIN"}
        ]
        assert client.get("/auth/session").json()["setupRequired"] is False

    with served(settings, **NETWORK):
        pass
    assert "setup?token" not in capfd.readouterr().err  # a user exists: no link any more


def test_the_setup_form_posts_as_a_browser_form(
    settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    with served(settings, **NETWORK) as client:
        printed = LINK.search(capfd.readouterr().err)
        assert printed is not None
        done = client.post(
            "/setup",
            data={
                "token": printed.group(2),
                "email": "ada@example.com",
                "password": "a good password",
            },
        )
        assert done.status_code == 200 and "first admin exists" in done.text
        assert signed_in_gql(client, "ada@example.com", "a good password")(ME)["me"]["admin"]


def test_a_local_owner_workspace_is_kept_when_the_server_moves_to_a_network(
    settings: Settings, capfd: pytest.CaptureFixture[str]
) -> None:
    with served(settings):
        pass
    with served(settings, **NETWORK) as client:
        token = LINK.search(capfd.readouterr().err).group(2)  # type: ignore[union-attr]
        client.post(
            "/setup",
            json={"token": token, "email": "ada@example.com", "password": "a good password"},
        )
        admin = signed_in_gql(client, "ada@example.com", "a good password")
        [workspace] = admin(WORKSPACES)["workspaces"]
        members = admin(
            "query($id: UUID!) { workspace(id: $id) { members { userId role } } }",
            id=workspace["id"],
        )["workspace"]["members"]
    assert sorted(m["role"] for m in members) == ["ADMIN", "ADMIN"]

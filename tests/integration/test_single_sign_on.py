"""Single sign-on against a real OpenID Connect provider (oidc-provider, on loopback): the
browser's whole way through the redirects, the session it ends with used on GraphQL, and
each way a sign-in must be refused (ending on the web app with a message, never a 500)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import UUID

import httpx
import pytest

from domain.workspace import DEFAULT_WORKSPACE
from tests.conftest import make_settings
from tests.integration.accounts_client import ME, PASSWORD, WORKSPACES
from tests.integration.oidc_provider import (
    CLIENT_ID,
    CLIENT_SECRET,
    Provider,
    Served,
    free_socket,
    provider,
    serve_app,
    walk,
)

pytestmark = pytest.mark.timeout(180)


@contextmanager
def single_sign_on(
    tmp_path: Path, database_url: str | None = None, **overrides: Any
) -> Iterator[tuple[Provider, Served]]:
    """The provider, and our app (sign-in required) with it configured."""
    sock = free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with provider(f"{base}/auth/oidc/callback", tmp_path) as idp:
        settings = make_settings(
            tmp_path / "data",
            database_url,
            genai_host="0.0.0.0",  # as on a network: sign-in required
            genai_public_url=base,
            genai_oidc_issuer=idp.issuer,
            genai_oidc_client_id=CLIENT_ID,
            genai_oidc_client_secret=CLIENT_SECRET,
            genai_oidc_name="Test IdP",
            **overrides,
        )
        with serve_app(settings, sock) as served:
            yield idp, served


def gql(served: Served, access_token: str | None, query: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    response = httpx.post(f"{served.base}/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def events_of(served: Served, user_id: str) -> list[tuple[str, str]]:
    store = served.services.event_log
    return [(type(e).__name__, e.actor) for e in store.events.get(UUID(user_id))]


def refused(outcome: Any, *words: str) -> None:
    """Back on the web app with a message that says why, and no session."""
    assert outcome.error is not None, outcome.location
    for word in words:
        assert word in outcome.error
    assert "genai_refresh" not in outcome.browser.cookies
    assert outcome.browser.post(f"{base_of(outcome.location)}/auth/refresh").status_code == 401


def base_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query[name] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_an_existing_user_signs_in_with_the_provider_and_the_session_works(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, capfd: pytest.CaptureFixture[str]
) -> None:
    url = request.getfixturevalue("postgres_url") if backend == "postgres" else None
    with single_sign_on(tmp_path, url) as (idp, served):
        session = httpx.get(f"{served.base}/auth/session").json()
        assert session["singleSignOn"] == {"name": "Test IdP", "url": "/auth/oidc/start"}
        assert CLIENT_SECRET not in str(session)

        ada = str(served.accounts.users.register("Ada@Example.com", PASSWORD, "Ada", "tests").id)
        idp.account("ada-at-idp", "ada@example.com", name="Ada L.")

        outcome = walk(served.base)
        assert outcome.error is None, outcome.error
        assert outcome.location == f"{served.base}/"
        assert outcome.hops[1].startswith(f"{idp.issuer}/auth?")  # the provider was asked
        asked = dict(parse_qsl(urlsplit(outcome.hops[1]).query))
        assert asked["code_challenge_method"] == "S256" and asked["code_challenge"]
        assert asked["state"] and asked["nonce"] and asked["client_id"] == CLIENT_ID
        assert asked["scope"] == "openid email profile"

        access = outcome.access_token()
        me = gql(served, access, ME)["data"]["me"]
        assert me == {
            "id": ada,
            "email": "ada@example.com",
            "name": "Ada",
            "admin": False,
            "local": False,
        }
        # linking is an event Ada is the actor of; signing in is not one
        assert events_of(served, ada) == [("UserRegistered", "tests"), ("IdentityLinked", ada)]

        # the provider account is linked: it signs in as Ada whatever its email says now
        idp.account("ada-at-idp", "ada.lovelace@elsewhere.example")
        again = walk(served.base)
        assert again.error is None, again.error
        assert gql(served, again.access_token(), ME)["data"]["me"]["id"] == ada
        assert events_of(served, ada) == [("UserRegistered", "tests"), ("IdentityLinked", ada)]
        assert PASSWORD  # her password still signs her in too
        signed = httpx.post(
            f"{served.base}/auth/sign-in", json={"email": "ada@example.com", "password": PASSWORD}
        )
        assert signed.status_code == 200

        log = served.services.event_log.recorder.select_notifications(start=1, limit=10_000)
        stored = b"\n".join(n.state for n in log)
        assert CLIENT_SECRET.encode() not in stored
    captured = capfd.readouterr()
    assert CLIENT_SECRET not in captured.out + captured.err


def test_an_unknown_account_is_refused_unless_sign_up_is_allowed(tmp_path: Path) -> None:
    with single_sign_on(tmp_path) as (idp, served):
        idp.account("bob-at-idp", "bob@example.com", name="Bob")
        refused(walk(served.base), "no account for bob@example.com")
        assert served.accounts.users.count() == 0


def test_sign_up_makes_a_user_without_a_password_who_joins_no_workspace(
    tmp_path: Path,
) -> None:
    with single_sign_on(tmp_path, genai_oidc_sign_up=True) as (idp, served):
        admin = served.accounts.users.register("root@example.com", PASSWORD, "", "tests")
        served.accounts.workspaces.ensure_default(admin.id, "tests")
        idp.account("bob-at-idp", "Bob@Example.com", name="Bob")

        outcome = walk(served.base)
        assert outcome.error is None, outcome.error
        access = outcome.access_token()
        me = gql(served, access, ME)["data"]["me"]
        assert (me["email"], me["name"], me["admin"]) == ("bob@example.com", "Bob", False)
        assert events_of(served, me["id"]) == [
            ("UserRegistered", "sso"),
            ("IdentityLinked", "sso"),
        ]
        assert gql(served, access, WORKSPACES)["data"]["workspaces"] == []  # until invited
        for password in ("", PASSWORD, "!"):  # no password signs in as Bob
            attempt = httpx.post(
                f"{served.base}/auth/sign-in",
                json={"email": "bob@example.com", "password": password},
            )
            assert attempt.status_code == 401


def test_sign_up_may_join_the_default_workspace_as_a_viewer(tmp_path: Path) -> None:
    with single_sign_on(
        tmp_path, genai_oidc_sign_up=True, genai_oidc_join_default_workspace=True
    ) as (idp, served):
        idp.account("bob-at-idp", "bob@example.com")
        # before the first admin is set up, no one signs up (the setup link would stop working)
        refused(walk(served.base), "no admin yet")
        assert served.accounts.users.count() == 0

        admin = served.accounts.users.register("root@example.com", PASSWORD, "", "tests")
        served.accounts.workspaces.ensure_default(admin.id, "tests")

        outcome = walk(served.base)
        assert outcome.error is None, outcome.error
        workspaces = gql(served, outcome.access_token(), WORKSPACES)["data"]["workspaces"]
        assert workspaces == [
            {"id": str(DEFAULT_WORKSPACE), "name": "My workspace", "role": "VIEWER"}
        ]


def test_emails_the_provider_has_not_verified_or_of_other_domains_are_refused(
    tmp_path: Path,
) -> None:
    with single_sign_on(
        tmp_path, genai_oidc_sign_up=True, genai_oidc_email_domains=["example.com"]
    ) as (idp, served):
        ada = str(served.accounts.users.register("ada@example.com", PASSWORD, "", "tests").id)
        # someone at the provider claims Ada's address without having proved it
        idp.account("mallory-at-idp", "ada@example.com", verified=False)
        refused(walk(served.base), "not verified", "ada@example.com")
        assert events_of(served, ada) == [("UserRegistered", "tests")]  # not linked

        idp.account("no-email-at-idp", None)
        refused(walk(served.base), "did not say which email")

        idp.account("eve-at-idp", "eve@elsewhere.example")
        refused(walk(served.base), "elsewhere.example may not sign in")
        assert served.accounts.users.count() == 1


def test_a_disabled_user_is_refused_linked_or_not(tmp_path: Path) -> None:
    with single_sign_on(tmp_path) as (idp, served):
        users = served.accounts.users
        users.register("ada@example.com", PASSWORD, "", "tests")
        users.register("bob@example.com", PASSWORD, "", "tests")

        idp.account("ada-at-idp", "ada@example.com")
        assert walk(served.base).error is None  # linked now
        users.disable("ada@example.com", "tests")
        refused(walk(served.base), "disabled")

        users.disable("bob@example.com", "tests")
        idp.account("bob-at-idp", "bob@example.com")
        refused(walk(served.base), "disabled")


def test_a_tampered_state_nonce_or_pkce_verifier_is_refused(tmp_path: Path) -> None:
    with single_sign_on(tmp_path) as (idp, served):
        served.accounts.users.register("ada@example.com", PASSWORD, "", "tests")
        idp.account("ada-at-idp", "ada@example.com")
        callback = f"{served.base}/auth/oidc/callback"

        def on_callback(name: str, value: str) -> Any:
            return lambda url: with_param(url, name, value) if url.startswith(callback) else url

        def on_authorization(name: str, value: str) -> Any:
            return lambda url: (
                with_param(url, name, value)
                if url.startswith(idp.issuer) and "/auth?" in url
                else url
            )

        # the state that comes back is not the one this browser's sign-in sent
        refused(walk(served.base, edit=on_callback("state", "forged")), "not for the sign-in")
        # the provider was asked with another nonce than ours: its ID token carries that one
        refused(walk(served.base, edit=on_authorization("nonce", "forged")), "nonce")
        # the provider says it issued the token for another nonce
        idp.set(tamper={"nonce": "forged"})
        refused(walk(served.base), "nonce")
        idp.set(tamper=None)
        # a code obtained for another PKCE challenge is not redeemed with our verifier
        challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        refused(
            walk(served.base, edit=on_authorization("code_challenge", challenge)), "did not accept"
        )

        # a callback this browser did not begin (no flow cookie), or an answer from elsewhere
        outcome = walk(served.base, edit=on_callback("iss", "http://127.0.0.1:9"))
        refused(outcome, "another provider")
        direct = httpx.get(f"{callback}?code=x&state=y")
        assert (direct.status_code, direct.headers["location"]) == (303, "/")
        assert "not+begun" not in direct.headers["set-cookie"]
        assert "not%20begun%20in%20this%20browser" in direct.headers["set-cookie"]
        # words put in the address by someone else are not shown (nor is an error without
        # the state of this browser's sign-in)
        phishing = "call +1 555 0100 to unlock your account"

        def forged_error(url: str) -> str:
            if not url.startswith(callback):
                return url
            url = with_param(url, "error", "access_denied")
            return with_param(with_param(url, "error_description", phishing), "state", "x")

        forged = walk(served.base, edit=forged_error)
        refused(forged, "not for the sign-in")
        assert forged.error is not None and phishing not in forged.error

        assert walk(served.base).error is None  # and an honest sign-in still works


@pytest.mark.parametrize(
    ("tamper", "said"),
    [
        ({"tamper": {"aud": "another-client"}}, "aud"),
        ({"tamper": {"iss": "http://127.0.0.1:9"}}, "iss"),
        ({"tamper": {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}}, "exp"),
        ({"foreignKey": True}, "ID token is not valid"),
    ],
    ids=["audience", "issuer", "expired", "signature"],
)
def test_an_id_token_for_another_audience_issuer_time_or_key_is_refused(
    tmp_path: Path, tamper: dict[str, Any], said: str
) -> None:
    with single_sign_on(tmp_path) as (idp, served):
        ada = str(served.accounts.users.register("ada@example.com", PASSWORD, "", "tests").id)
        idp.account("ada-at-idp", "ada@example.com")
        idp.set(**tamper)
        refused(walk(served.base), said)
        assert events_of(served, ada) == [("UserRegistered", "tests")]


def test_a_provider_refusal_is_shown_and_callbacks_are_rate_limited(tmp_path: Path) -> None:
    with single_sign_on(tmp_path, genai_sign_in_limit="3/minute") as (idp, served):
        idp.set(login=None)  # the provider signs no one in: it answers access_denied
        refused(walk(served.base), "the provider did not sign you in", "no test account")
        callback = f"{served.base}/auth/oidc/callback?code=x&state=y"
        answers = [httpx.get(callback).headers["set-cookie"] for _ in range(3)]
        assert "too%20many%20attempts" not in answers[0]
        assert "too%20many%20attempts" in answers[-1]


def test_without_a_provider_there_is_no_button_and_no_flow(tmp_path: Path) -> None:
    sock = free_socket()
    settings = make_settings(tmp_path / "data", None, genai_host="0.0.0.0")
    with serve_app(settings, sock) as served:
        assert httpx.get(f"{served.base}/auth/session").json()["singleSignOn"] is None
        start = httpx.get(f"{served.base}/auth/oidc/start")
        assert (start.status_code, start.headers["location"]) == (303, "/")
        assert "not%20configured" in start.headers["set-cookie"]

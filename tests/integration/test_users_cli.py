"""`genai-stack users create|reset-password|disable|enable`, then signing in over HTTP."""

from __future__ import annotations

import os
import subprocess

from starlette.testclient import TestClient

from infrastructure.settings import Settings
from interfaces.app import create_app
from tests.integration.accounts_client import NETWORK, sign_in, stored_events
from tests.integration.servers import GENAI_STACK


def users(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GENAI_DATA_DIR": str(settings.genai_data_dir),
        **({"DATABASE_URL": settings.database_url} if settings.database_url else {}),
    }
    return subprocess.run(
        [GENAI_STACK, "users", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_users_made_and_changed_from_the_console_sign_in_accordingly(settings: Settings) -> None:
    made = users(
        settings,
        "create",
        "--email",
        "Ada@Example.com",
        "--name",
        "Ada",
        "--admin",
        stdin="first secret pw\nfirst secret pw\n",
    )
    assert made.returncode == 0, made.stderr
    assert "created ada@example.com" in made.stdout
    assert "first secret pw" not in made.stdout + made.stderr

    again = users(settings, "create", "--email", "ada@example.com", "--password", "another pw 1")
    assert again.returncode == 1 and "exists" in again.stderr

    short = users(settings, "reset-password", "--email", "ada@example.com", "--password", "short")
    assert short.returncode == 1 and "at least" in short.stderr
    unknown = users(settings, "disable", "--email", "bob@example.com")
    assert unknown.returncode == 1 and "no user" in unknown.stderr

    network = settings.model_copy(update=NETWORK)
    with TestClient(create_app(network)) as client:
        signed_in = sign_in(client, "ada@example.com", "first secret pw")
        assert signed_in.status_code == 200
        user = signed_in.json()["user"]
        assert user["admin"] is True
        workspaces = client.post(
            "/graphql",
            json={"query": "{ workspaces { name role } }"},
            headers={"Authorization": f"Bearer {signed_in.json()['accessToken']}"},
        ).json()
        assert workspaces == {"data": {"workspaces": [{"name": "My workspace", "role": "ADMIN"}]}}

    reset = users(
        settings, "reset-password", "--email", "ada@example.com", "--password", "second secret"
    )
    assert reset.returncode == 0, reset.stderr
    with TestClient(create_app(network)) as client:
        assert sign_in(client, "ada@example.com", "first secret pw").status_code == 401
        assert sign_in(client, "ada@example.com", "second secret").status_code == 200

    assert users(settings, "disable", "--email", "ada@example.com").returncode == 0
    with TestClient(create_app(network)) as client:
        assert sign_in(client, "ada@example.com", "second secret").status_code == 401

    assert users(settings, "enable", "--email", "ada@example.com").returncode == 0
    with TestClient(create_app(network)) as client:
        assert sign_in(client, "ada@example.com", "second secret").status_code == 200
        events = stored_events(client, user["id"])
    assert [(type(e).__name__, e.actor) for e in events] == [
        ("UserRegistered", "console"),
        ("PasswordChanged", "console"),
        ("UserDisabled", "console"),
        ("UserEnabled", "console"),
    ]

"""`genai-stack secrets rotate` re-encrypts stored API keys under a new key while the server
runs, and `secrets prune` drops the old one; chats keep sending the right key throughout."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import select
from starlette.testclient import TestClient

from infrastructure.readmodel.tables import secrets as secrets_table
from infrastructure.settings import Settings
from interfaces.app import create_app
from tests.conftest import make_settings
from tests.fakes.openai_server import FakeOpenAIServer
from tests.integration.chat_ops import fake_llm, published_workflow, start_chat, turn
from tests.integration.gql import GQL
from tests.integration.servers import GENAI_STACK

RAW_KEY = "sk-proj-ROTATED-0a1b2c3d4e5f-wxyz"


def genai_stack(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GENAI_STACK, *args],
        env={
            **os.environ,
            "GENAI_DATA_DIR": str(settings.genai_data_dir),
            **({"DATABASE_URL": settings.database_url} if settings.database_url else {}),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def ciphertexts(client: TestClient) -> dict[str, bytes]:
    engine = client.app.state.services.read_db  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(select(secrets_table.c.ref, secrets_table.c.ciphertext)).all()
    return {r.ref: bytes(r.ciphertext) for r in rows}


def key_lines(settings: Settings) -> list[bytes]:
    return (settings.data_dir() / "secret.key").read_bytes().split()


def asks_with_the_key(client: TestClient, gql: GQL, fake: FakeOpenAIServer, w: str) -> None:
    before = len(fake.chat_requests())
    events = turn(client, gql, start_chat(gql, w), "Which key?")
    assert events[-1]["__typename"] == "ChatMessageAdded", events[-1]
    assert events[-1]["message"]["content"] == fake.default_reply, events[-1]
    [request] = fake.chat_requests()[before:]
    assert request.headers["authorization"] == f"Bearer {RAW_KEY}"


def test_rotating_while_the_server_runs_keeps_keys_working(
    client: TestClient, gql: GQL, settings: Settings, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.api_key = RAW_KEY
    w = published_workflow(gql, fake_llm(fake_openai, apiKey=RAW_KEY))
    asks_with_the_key(client, gql, fake_openai, w)
    [old_key] = key_lines(settings)
    before = ciphertexts(client)
    assert len(before) == 1

    rotated = genai_stack(settings, "secrets", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    new_key, kept = key_lines(settings)
    assert kept == old_key != new_key
    assert rotated.stdout.splitlines()[0] == (
        f"Re-encrypted 1 stored API keys under the new key, now first in "
        f"{settings.data_dir() / 'secret.key'}."
    )
    assert new_key.decode() not in rotated.stdout + rotated.stderr
    after = ciphertexts(client)
    assert after.keys() == before.keys() and after != before
    [(ref, token)] = after.items()
    assert Fernet(new_key).decrypt(token).decode() == RAW_KEY
    asks_with_the_key(client, gql, fake_openai, w)  # the running server follows the file

    pruned = genai_stack(settings, "secrets", "prune")
    assert pruned.returncode == 0, pruned.stderr
    assert key_lines(settings) == [new_key]
    asks_with_the_key(client, gql, fake_openai, w)
    assert (settings.data_dir() / "secret.key").stat().st_mode & 0o077 == 0


def test_a_key_that_decrypts_nothing_is_refused_with_its_reason(
    client: TestClient, gql: GQL, settings: Settings, fake_openai: FakeOpenAIServer
) -> None:
    w = published_workflow(gql, fake_llm(fake_openai, apiKey=RAW_KEY))
    stored = ciphertexts(client)
    (settings.data_dir() / "secret.key").write_bytes(Fernet.generate_key() + b"\n")

    refused = genai_stack(settings, "secrets", "rotate")
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"Error: 1 stored API keys decrypt with none of the keys in "
        f"{settings.data_dir() / 'secret.key'}; nothing was re-encrypted"
    )
    assert ciphertexts(client) == stored
    assert len(key_lines(settings)) == 1  # no new key was added either

    events = turn(client, gql, start_chat(gql, w), "Which key?")
    assert events[-1]["__typename"] == "ChatFailed"
    assert events[-1]["code"] != "INTERNAL"
    assert "stored API key cannot be read" in events[-1]["error"]
    assert fake_openai.chat_requests() == []


def test_with_the_setting_the_new_key_goes_first_then_the_old_one_goes(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    fake_openai.api_key = RAW_KEY
    settings = make_settings(tmp_path / "data", None, genai_secret_key=old)
    with TestClient(create_app(settings)) as client:
        w = published_workflow(GQL(client), fake_llm(fake_openai, apiKey=RAW_KEY))

    alone = genai_stack(settings, "secrets", "rotate", GENAI_SECRET_KEY=old)
    assert alone.returncode == 2
    assert "GENAI_SECRET_KEY holds one key: put a new key before it" in alone.stderr
    assert "Traceback" not in alone.stderr
    rotated = genai_stack(settings, "secrets", "rotate", GENAI_SECRET_KEY=f"{new},{old}")
    assert rotated.returncode == 0, rotated.stderr
    assert new not in rotated.stdout and old not in rotated.stdout
    checked = genai_stack(settings, "secrets", "prune", GENAI_SECRET_KEY=f"{new},{old}")
    assert checked.returncode == 0, checked.stderr
    assert "the others can be removed from it" in checked.stdout

    settings = make_settings(tmp_path / "data", None, genai_secret_key=new)
    with TestClient(create_app(settings)) as client:
        asks_with_the_key(client, GQL(client), fake_openai, w)


def test_a_malformed_key_setting_stops_commands_and_the_server_with_its_reason(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path / "data", None)
    for command in (["secrets", "rotate"], ["audit", "verify"], ["serve", "--port", "0"]):
        done = genai_stack(
            settings, *command, GENAI_SECRET_KEY=f"{Fernet.generate_key().decode()},not-a-key"
        )
        assert done.returncode == 2, command
        assert done.stderr.strip() == (
            "Error: GENAI_SECRET_KEY: key 2 of 2 is not a Fernet key "
            "(32 url-safe base64-encoded bytes)"
        ), command
    given = genai_stack(settings, "secrets", "rotate", "--new-key", "short")
    assert given.returncode == 2
    assert given.stderr.strip().startswith("Error: the new key: key 1 of 1 is not a Fernet key")

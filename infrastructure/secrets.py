"""API keys encrypted at rest (Fernet) in the `secrets` table; only references leave it."""

from __future__ import annotations

import contextlib
import os
import secrets as pysecrets
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Engine, insert, select

from application.ports import StoredSecret
from infrastructure.readmodel.tables import secrets


def load_or_create_key(configured: str | None, data_dir: Path, name: str = "secret.key") -> bytes:
    """The configured key, or one generated once and kept beside the data (mode 0600)."""
    if configured:
        return configured.encode()
    path = data_dir / name
    if not path.exists():
        # written aside, then linked into place: processes started at once on one data
        # directory all read the one key that got there first, never a half-written file
        fd, draft = tempfile.mkstemp(dir=data_dir, prefix=f".{name}.")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(Fernet.generate_key())
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            os.unlink(draft)
    return path.read_bytes().strip()


def hint_of(value: str) -> str:
    return "…" + value[-4:] if len(value) >= 12 else "…"


class SqlSecretStore:
    def __init__(self, engine: Engine, key: bytes) -> None:
        self.engine, self.fernet = engine, Fernet(key)

    def put(self, value: str) -> StoredSecret:
        ref = "sec_" + pysecrets.token_hex(16)
        with self.engine.begin() as conn:
            conn.execute(
                insert(secrets).values(
                    ref=ref,
                    ciphertext=self.fernet.encrypt(value.encode()),
                    hint=hint_of(value),
                    created_at=datetime.now(UTC),
                )
            )
        return StoredSecret(ref=ref, hint=hint_of(value))

    def get(self, ref: str) -> str:
        with self.engine.connect() as conn:
            row = conn.execute(select(secrets.c.ciphertext).where(secrets.c.ref == ref)).first()
        if row is None:
            raise KeyError(ref)
        try:
            return self.fernet.decrypt(row.ciphertext).decode()
        except InvalidToken:
            raise KeyError(f"{ref} (encrypted with another GENAI_SECRET_KEY)") from None

    def exists(self, ref: str) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.execute(select(secrets.c.ref).where(secrets.c.ref == ref)).first() is not None
            )

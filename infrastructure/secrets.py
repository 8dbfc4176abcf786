"""API keys encrypted at rest (Fernet) in the `secrets` table; only references leave it."""

from __future__ import annotations

import secrets as pysecrets
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Engine, Row, insert, select, update

from application.ports import StoredSecret
from infrastructure.readmodel.tables import secrets
from infrastructure.secret_keys import KeyRing, SecretKeyError

ROTATION_BATCH = 100
ROTATION_PASSES = 5


def hint_of(value: str) -> str:
    return "…" + value[-4:] if len(value) >= 12 else "…"


class SqlSecretStore:
    def __init__(self, engine: Engine, keys: KeyRing) -> None:
        self.engine, self.keys = engine, keys

    def put(self, value: str) -> StoredSecret:
        ref = "sec_" + pysecrets.token_hex(16)
        with self.engine.begin() as conn:
            conn.execute(
                insert(secrets).values(
                    ref=ref,
                    ciphertext=self.keys.fernet().encrypt(value.encode()),
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
            return self.keys.fernet().decrypt(row.ciphertext).decode()
        except InvalidToken:
            raise KeyError(f"{ref} (encrypted with a key not in {self.keys.source})") from None

    def exists(self, ref: str) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.execute(select(secrets.c.ref).where(secrets.c.ref == ref)).first() is not None
            )

    def rotate(self) -> int:
        """Re-encrypts every stored key under the newest key, one transaction per batch, and
        returns how many it re-encrypted. Refuses, changing nothing, when some row decrypts
        with none of the keys. Rows that a server still holding the older keys stored
        meanwhile are found by a further pass."""
        self.check_readable()
        done = self._rotate_batches(everything=True)
        for _ in range(ROTATION_PASSES):
            if not (more := self._rotate_batches(everything=False)):
                break
            done += more
        return done

    def check_readable(self) -> None:
        """Raises SecretKeyError when some stored key decrypts with none of the keys."""
        unreadable = sum(1 for _ in self._rows_not_readable_by(self.keys.fernet()))
        if unreadable:
            raise SecretKeyError(
                f"{unreadable} stored API keys decrypt with none of the keys in "
                f"{self.keys.source}; nothing was re-encrypted"
            )

    def needing_older_keys(self) -> int:
        """How many stored keys the newest key alone cannot decrypt."""
        return sum(1 for _ in self._rows_not_readable_by(self.keys.newest()))

    def _rotate_batches(self, *, everything: bool) -> int:
        fernet, newest = self.keys.fernet(), self.keys.newest()
        done = 0
        for rows in self._batches():
            with self.engine.begin() as conn:
                for row in rows:
                    if not everything and _readable(newest, row.ciphertext):
                        continue
                    # only if unchanged since read: a rotation running beside this one wins
                    done += conn.execute(
                        update(secrets)
                        .where(secrets.c.ref == row.ref)
                        .where(secrets.c.ciphertext == row.ciphertext)
                        .values(ciphertext=fernet.rotate(row.ciphertext))
                    ).rowcount
        return done

    def _rows_not_readable_by(self, fernet: Fernet | MultiFernet) -> Iterator[str]:
        for rows in self._batches():
            yield from (r.ref for r in rows if not _readable(fernet, r.ciphertext))

    def _batches(self) -> Iterator[Sequence[Row[Any, Any]]]:
        """Every stored key (reference and ciphertext), a batch at a time, in reference order."""
        after = ""
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(secrets.c.ref, secrets.c.ciphertext)
                    .where(secrets.c.ref > after)
                    .order_by(secrets.c.ref)
                    .limit(ROTATION_BATCH)
                ).all()
            if not rows:
                return
            yield rows
            after = rows[-1].ref


def _readable(fernet: Fernet | MultiFernet, token: bytes) -> bool:
    try:
        fernet.decrypt(token)
    except InvalidToken:
        return False
    return True

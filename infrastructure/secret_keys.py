"""The keys that stored API keys are encrypted with, newest first: each of them decrypts, the
newest encrypts (cryptography's MultiFernet), so a rotation can re-encrypt row by row while
every row stays readable.

They come from `GENAI_SECRET_KEY` (comma-separated) or else from `secret.key` in the data
directory (one per line), made on first start. The file is read again whenever it changes, so
servers follow `genai-stack secrets rotate` without a restart.
"""

from __future__ import annotations

import binascii
import contextlib
import os
import re
import tempfile
import threading
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet

KEY_FILE = "secret.key"


class SecretKeyError(Exception):
    """A key setting or key file that cannot be used; the message says which and why."""


def parse_keys(text: str, source: str) -> list[bytes]:
    entries = [e for e in re.split(r"[,\s]+", text) if e]
    if not entries:
        raise SecretKeyError(f"{source} holds no key")
    for number, entry in enumerate(entries, 1):
        try:
            Fernet(entry.encode())
        except (ValueError, binascii.Error):
            raise SecretKeyError(
                f"{source}: key {number} of {len(entries)} is not a Fernet key "
                "(32 url-safe base64-encoded bytes)"
            ) from None
    return [e.encode() for e in entries]


class KeyRing:
    def __init__(self, configured: str | None, data_dir: Path) -> None:
        self.path: Path | None = None if configured else data_dir / KEY_FILE
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        if configured:
            self._keys = parse_keys(configured, "GENAI_SECRET_KEY")
        else:
            assert self.path is not None
            create_key_once(self.path)
            self._keys = self._read()
        self._fernet = MultiFernet([Fernet(k) for k in self._keys])

    @property
    def source(self) -> str:
        return str(self.path) if self.path else "GENAI_SECRET_KEY"

    def keys(self) -> list[bytes]:
        self.fernet()
        return list(self._keys)

    def fernet(self) -> MultiFernet:
        """All keys, the newest first; from the file as it is now."""
        if self.path is not None and self._stat() != self._stamp:
            with self._lock:
                self._keys = self._read()
                self._fernet = MultiFernet([Fernet(k) for k in self._keys])
        return self._fernet

    def newest(self) -> Fernet:
        return Fernet(self.keys()[0])

    def add_newest(self, key: bytes) -> None:
        """Puts a key first in the key file (the others stay, for rows not yet re-encrypted)."""
        parse_keys(key.decode(), "the new key")
        self._write([key, *(k for k in self.keys() if k != key)])

    def keep_newest_only(self) -> None:
        self._write(self.keys()[:1])

    def _write(self, keys: list[bytes]) -> None:
        if self.path is None:
            raise SecretKeyError(
                "the keys come from GENAI_SECRET_KEY: change that setting on every server"
            )
        # written aside, then renamed over: a reader sees the old file or the new, whole
        fd, draft = tempfile.mkstemp(dir=self.path.parent, prefix=f".{KEY_FILE}.")  # mode 0600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(b"\n".join(keys) + b"\n")
            os.replace(draft, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(draft)
            raise
        self.fernet()

    def _stat(self) -> tuple[int, int, int]:
        assert self.path is not None
        s = self.path.stat()
        return (s.st_ino, s.st_mtime_ns, s.st_size)

    def _read(self) -> list[bytes]:
        assert self.path is not None
        self._stamp = self._stat()
        return parse_keys(self.path.read_text(encoding="ascii", errors="replace"), str(self.path))


def create_key_once(path: Path) -> None:
    """A new key file at `path` (mode 0600) unless there is one. Processes started at once
    on one data directory all read the one key that got there first, never a half-written
    file: it is written aside, then linked into place."""
    if path.exists():
        return
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(Fernet.generate_key() + b"\n")
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        os.unlink(draft)

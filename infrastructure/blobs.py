"""Uploaded bytes in a directory, addressed by their sha256."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from application.ports import BlobInfo, BlobTooLarge

_KEY = re.compile(r"[0-9a-f]{64}")
_TEMP_PREFIX = ".incoming-"


class FileBlobStore:
    """Blobs as files `root/ab/cdef…` named by the sha256 of their content.

    The same bytes stored twice are one file. A blob appears under its name only once it
    is whole (written to a temporary file beside it, then renamed), so a reader never sees
    half a file and an interrupted upload leaves no blob behind.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root.chmod(0o700)  # the uploads are private (their files are made 0600)

    def put(self, chunks: Iterable[bytes], max_bytes: int) -> BlobInfo:
        """Streams `chunks` to disk while hashing; BlobTooLarge once more than `max_bytes` came."""
        digest = hashlib.sha256()
        size = 0
        temp: Path | None = None
        try:
            # In root itself, so the final rename stays on one file system and is atomic.
            with tempfile.NamedTemporaryFile(
                dir=self.root, prefix=_TEMP_PREFIX, delete=False
            ) as handle:
                temp = Path(handle.name)
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise BlobTooLarge(max_bytes)
                    digest.update(chunk)
                    handle.write(chunk)
                handle.flush()
                # The event naming this blob is stored next: the bytes must outlive a crash.
                os.fsync(handle.fileno())
            key = digest.hexdigest()
            target = self._path(key)
            target.parent.mkdir(exist_ok=True, mode=0o700)
            # Replacing an existing blob swaps identical bytes, so concurrent puts are safe.
            os.replace(temp, target)
        except BaseException:
            if temp is not None:
                with contextlib.suppress(FileNotFoundError):
                    temp.unlink()
            raise
        return BlobInfo(key=key, size=size)

    def open(self, key: str) -> BinaryIO:
        """The blob for reading (seekable); FileNotFoundError if there is none."""
        return self._path(key).open("rb")

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Removes the blob; deleting one that is not there is not an error."""
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def _path(self, key: str) -> Path:
        # Keys reach here from events and requests: only a sha256 may become a path.
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a blob key: {key!r}")
        return self.root / key[:2] / key[2:]

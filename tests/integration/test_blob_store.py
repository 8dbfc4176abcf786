from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from application.ports import BlobTooLarge
from infrastructure.blobs import FileBlobStore

MB = 1024 * 1024


@pytest.fixture
def store(tmp_path: Path) -> FileBlobStore:
    return FileBlobStore(tmp_path / "blobs")


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_a_blob_is_stored_under_its_sha256_and_reads_back(store: FileBlobStore) -> None:
    data = b"%PDF-1.7 some bytes" * 1000

    info = store.put([data[:5000], data[5000:]], max_bytes=MB)

    key = hashlib.sha256(data).hexdigest()
    assert (info.key, info.size) == (key, len(data))
    assert files_under(store.root) == [store.root / key[:2] / key[2:]]
    assert store.exists(key)
    with store.open(key) as blob:
        assert blob.read() == data


def test_the_same_bytes_twice_are_one_file(store: FileBlobStore) -> None:
    first = store.put([b"same bytes"], max_bytes=MB)
    second = store.put([b"same ", b"bytes"], max_bytes=MB)

    assert first == second
    assert len(files_under(store.root)) == 1


def test_concurrent_puts_of_the_same_bytes_leave_one_whole_file(store: FileBlobStore) -> None:
    data = bytes(range(256)) * 4000

    with ThreadPoolExecutor(max_workers=4) as pool:
        infos = set(pool.map(lambda _: store.put([data], max_bytes=MB * 10), range(8)))

    assert len(infos) == 1
    (path,) = files_under(store.root)
    assert path.read_bytes() == data


def test_too_large_a_blob_is_refused_as_soon_as_the_limit_is_passed(store: FileBlobStore) -> None:
    pulled: list[int] = []

    def body() -> Iterator[bytes]:
        for i in range(100):
            pulled.append(i)
            yield b"x" * 1000

    with pytest.raises(BlobTooLarge) as raised:
        store.put(body(), max_bytes=2500)

    assert raised.value.limit_bytes == 2500
    assert len(pulled) == 3  # stopped at the chunk that passed the limit, not the end
    assert files_under(store.root) == []  # the partial temporary file is gone


def test_exactly_the_limit_is_accepted(store: FileBlobStore) -> None:
    assert store.put([b"x" * 100], max_bytes=100).size == 100


def test_an_upload_that_breaks_off_leaves_nothing(store: FileBlobStore) -> None:
    def body() -> Iterator[bytes]:
        yield b"first part"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        store.put(body(), max_bytes=MB)

    assert files_under(store.root) == []


def test_an_empty_blob_is_a_blob(store: FileBlobStore) -> None:
    info = store.put([], max_bytes=MB)

    assert info.size == 0
    assert info.key == hashlib.sha256(b"").hexdigest()


def test_delete_removes_the_blob_and_is_idempotent(store: FileBlobStore) -> None:
    info = store.put([b"to be deleted"], max_bytes=MB)

    store.delete(info.key)
    store.delete(info.key)

    assert not store.exists(info.key)
    with pytest.raises(FileNotFoundError):
        store.open(info.key)


@pytest.mark.parametrize("key", ["../../etc/passwd", "ab", "A" * 64, "g" * 64, ""])
def test_only_a_sha256_is_a_key(store: FileBlobStore, key: str) -> None:
    with pytest.raises(ValueError):
        store.open(key)
    with pytest.raises(ValueError):
        store.exists(key)

"""What the server keeps on disk is its owner's alone, whatever the umask: the data
directory and the blob directories 0700, the SQLite files (with their -wal and -shm), the
secret key and the uploaded files 0600."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from interfaces.app import create_app
from tests import pdfs
from tests.conftest import make_settings
from tests.integration.documents_client import add_knowledge_base, new_workflow, upload
from tests.integration.gql import GQL


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # files readable by all, as many systems make them
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("permissive_umask")
def test_data_files_are_created_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with TestClient(create_app(make_settings(data, None))) as client:
        gql = GQL(client)
        wid = new_workflow(gql)
        add_knowledge_base(gql, wid)
        upload(client, wid, pdfs.multi_page_pdf(1))
        # a key stored for a node writes the secrets table (and the key file)
        gql(
            'mutation($w: UUID!) { addNode(workflowId: $w, kind: LLM_ENGINE, position: {x: 0, y: 0}, config: {provider: "openai", apiKey: "sk-0123456789abcdef"}) { id } }',
            w=wid,
        )
        # while it runs: SQLite's -wal and -shm files go when it closes
        files = {
            p.relative_to(data).as_posix(): oct(mode(p))
            for p in data.rglob("*")
            if p.is_file() and "chroma" not in p.parts
        }
        directories = [oct(mode(d)) for d in (data / "blobs").rglob("*") if d.is_dir()]

    assert mode(data) == 0o700
    assert oct(mode(data / "blobs")) == oct(0o700) and set(directories) == {oct(0o700)}
    assert {"events.sqlite3", "events.sqlite3-wal", "read.sqlite3", "secret.key"} <= set(files)
    assert any(name.startswith("blobs/") for name in files)  # the uploaded file
    assert files == dict.fromkeys(files, oct(0o600))

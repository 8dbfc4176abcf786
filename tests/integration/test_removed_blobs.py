"""The file of a removed document is deleted once no other document holds the same bytes
(files are stored by their content: one file may serve documents of several stacks)."""

# ruff: noqa: F811  (the backend fixtures are imported, then named as parameters)

from __future__ import annotations

import hashlib

from starlette.testclient import TestClient

from infrastructure.blobs import FileBlobStore
from infrastructure.settings import Settings
from tests import pdfs
from tests.integration.documents_client import (  # noqa: F401  (fixtures)
    add_knowledge_base,
    new_workflow,
    settings,
    settle,
    upload,
    wait_for_status,
)
from tests.integration.gql import GQL

REMOVE = "mutation($id: UUID!) { removeDocument(id: $id) }"


def test_a_file_goes_with_the_last_document_that_holds_it(
    client: TestClient, gql: GQL, settings: Settings
) -> None:
    data = pdfs.multi_page_pdf(2)
    blobs, key = FileBlobStore(settings.data_dir() / "blobs"), hashlib.sha256(data).hexdigest()
    first, second = new_workflow(gql, "First"), new_workflow(gql, "Second")
    ids = []
    for wid in (first, second):
        add_knowledge_base(gql, wid)
        ids.append(upload(client, wid, data)["id"])
    for doc in ids:
        assert wait_for_status(gql, doc)["status"] == "INDEXED"
    assert blobs.exists(key)

    gql(REMOVE, id=ids[0])
    settle(client)
    assert blobs.exists(key)  # the second stack's document still holds it

    gql(REMOVE, id=ids[1])
    settle(client)
    assert not blobs.exists(key)

    again = upload(client, first, data)["id"]  # the same bytes later: stored anew
    assert wait_for_status(gql, again)["status"] == "INDEXED"
    assert blobs.exists(key)

"""One document cannot hold the indexer: past its budget of text or passages it fails with a
reason a person can act on, at the page where it passed it, and the next upload is indexed.
(Once, a 58 KB PDF of 100 pages sharing one content stream held it for 16 minutes.)"""

# ruff: noqa: F811  (the backend fixtures are imported, then named as parameters)

from __future__ import annotations

from infrastructure.settings import Settings
from tests import pdfs
from tests.integration.documents_client import (  # noqa: F401  (fixtures)
    ClientFactory,
    add_knowledge_base,
    make_client,
    new_workflow,
    settings,
    upload,
    wait_for_status,
)
from tests.integration.gql import GQL


def test_a_pdf_past_its_text_budget_fails_fast_and_the_next_one_is_indexed(
    make_client: ClientFactory, settings: Settings
) -> None:
    client = make_client(genai_max_document_chars=300_000)
    gql = GQL(client)
    wid = new_workflow(gql)
    add_knowledge_base(gql, wid)
    bomb = pdfs.shared_stream_pdf(100)
    assert len(bomb) < 64 * 1024  # small on disk, about ten million characters drawn

    hostile = upload(client, wid, bomb, "shared.pdf")["id"]
    honest = upload(client, wid, pdfs.multi_page_pdf(3), "facts.pdf")["id"]

    failed = wait_for_status(gql, hostile, timeout=120)
    assert (failed["status"], failed["failedStage"]) == ("FAILED", "extract")
    assert failed["error"].startswith(
        "The PDF holds more text than one document may (300,000 characters, passed on page 4)."
    )
    assert "GENAI_MAX_DOCUMENT_CHARS" in failed["error"]
    assert wait_for_status(gql, honest, timeout=120)["status"] == "INDEXED"


def test_a_document_past_its_passage_budget_fails_at_chunking(
    make_client: ClientFactory, settings: Settings
) -> None:
    client = make_client(genai_max_document_chunks=3)
    gql = GQL(client)
    wid = new_workflow(gql)
    add_knowledge_base(gql, wid, chunkSize=200, chunkOverlap=0)

    failed = wait_for_status(gql, upload(client, wid, pdfs.multi_page_pdf(5))["id"])

    assert (failed["status"], failed["failedStage"]) == ("FAILED", "chunk")
    assert "passages, more than one document may (3)" in failed["error"]
    assert failed["chunkCount"] is None

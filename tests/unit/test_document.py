"""The Document aggregate: given some events, when a command, then the events it adds."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.document import (
    Document,
    DocumentStatus,
    IndexSettings,
    Stage,
    clean_filename,
)
from domain.errors import InvalidCommand, NotFound

SHA = "ab" * 32
LOCAL = IndexSettings("local", "all-MiniLM-L6-v2", 1000, 150)


def uploaded(settings: IndexSettings = LOCAL) -> Document:
    return Document.upload(
        uuid4(), uuid4(), "kb", "report.pdf", "application/pdf", 1234, SHA, settings, "ada"
    )


def names(doc: Document) -> list[str]:
    return [type(e).__name__ for e in doc.collect_events()]


def test_an_upload_is_pending_with_the_settings_of_its_knowledge_base() -> None:
    doc = uploaded()

    assert names(doc) == ["DocumentUploaded"]
    assert (doc.status, doc.generation, doc.blob_key, doc.settings) == (
        DocumentStatus.PENDING,
        1,
        SHA,
        LOCAL,
    )
    assert doc.last_actor == "ada"


def test_an_empty_file_or_a_key_that_is_no_hash_is_refused() -> None:
    with pytest.raises(InvalidCommand):
        Document.upload(uuid4(), uuid4(), "kb", "a.pdf", "application/pdf", 0, SHA, LOCAL, "a")
    with pytest.raises(InvalidCommand):
        Document.upload(uuid4(), uuid4(), "kb", "a.pdf", "application/pdf", 5, "../x", LOCAL, "a")


def test_a_filename_keeps_no_path_and_no_control_characters() -> None:
    assert clean_filename("C:\\Users\\ada\\report.pdf") == "report.pdf"
    assert clean_filename("../../etc/pass\x00wd.pdf") == "passwd.pdf"
    assert clean_filename("  ") == "document.pdf"
    assert len(clean_filename("x" * 999)) == 255


def test_indexing_records_the_counts_and_the_model_once() -> None:
    doc = uploaded()
    doc.collect_events()

    assert doc.mark_indexed(1, 10, 42, "local/all-MiniLM-L6-v2", "ingestion")
    assert not doc.mark_indexed(1, 10, 42, "local/all-MiniLM-L6-v2", "ingestion")

    assert names(doc) == ["DocumentIndexed"]
    assert (doc.status, doc.page_count, doc.chunk_count) == (DocumentStatus.INDEXED, 10, 42)


def test_an_outcome_for_a_superseded_request_is_dropped() -> None:
    doc = uploaded()
    generation = doc.reindex(IndexSettings("openai", "", 1000, 150), "settings changed", "ada")
    doc.collect_events()

    assert generation == 2
    assert not doc.mark_indexed(1, 10, 42, "local/all-MiniLM-L6-v2", "ingestion")
    assert not doc.mark_failed(1, Stage.EMBED, "too late", "ingestion")
    assert doc.mark_failed(2, Stage.EMBED, "The OpenAI API key was refused.", "ingestion")
    assert names(doc) == ["DocumentFailed"]
    assert (doc.status, doc.failed_stage, doc.error) == (
        DocumentStatus.FAILED,
        "embed",
        "The OpenAI API key was refused.",
    )


def test_a_removed_document_takes_no_outcome_and_cannot_be_removed_again() -> None:
    doc = uploaded()
    doc.remove("ada")

    assert doc.removed
    assert not doc.mark_indexed(1, 1, 1, "m", "ingestion")
    with pytest.raises(NotFound):
        doc.remove("ada")
    with pytest.raises(NotFound):
        doc.reindex(LOCAL, "again", "ada")


def test_a_new_model_or_chunking_needs_reindexing_a_new_key_only_after_failing_to_embed() -> None:
    doc = uploaded(IndexSettings("openai", "", 1000, 150, api_key_ref="sec_old"))
    new_key = IndexSettings("openai", "", 1000, 150, api_key_ref="sec_new")

    assert doc.needs_reindex(IndexSettings("openai", "text-embedding-3-large", 1000, 150))
    assert doc.needs_reindex(IndexSettings("openai", "", 500, 150, api_key_ref="sec_old"))
    assert not doc.needs_reindex(new_key)
    doc.mark_failed(1, Stage.EMBED, "The OpenAI API key was refused.", "ingestion")
    assert doc.needs_reindex(new_key)


def test_a_knowledge_base_config_gives_its_settings_and_a_remote_embedder_its_own_model() -> None:
    config = {
        "embedder": "openai",
        "embeddingModel": "all-MiniLM-L6-v2",  # the form's default, left alone
        "apiKey": {"secretRef": "sec_1", "hint": "…abcd"},
        "chunkSize": 800,
    }

    settings = IndexSettings.of_node(config)

    assert settings == IndexSettings("openai", "", 800, 150, None, "sec_1")
    assert IndexSettings.of_node({}) == LOCAL
    assert IndexSettings.from_dict(settings.to_dict()) == settings


def test_replaying_the_events_gives_the_same_document() -> None:
    doc = uploaded()
    doc.mark_indexed(1, 3, 7, "local/all-MiniLM-L6-v2", "ingestion")
    doc.reindex(IndexSettings("local", "all-MiniLM-L6-v2", 500, 50), "settings changed", "ada")
    events = doc.collect_events()

    replayed = None
    for e in events:
        replayed = e.mutate(replayed)

    assert isinstance(replayed, Document)
    assert (replayed.generation, replayed.status, replayed.settings.chunk_size) == (
        2,
        DocumentStatus.PENDING,
        500,
    )
    assert replayed.embedding_model == "local/all-MiniLM-L6-v2"  # where the old vectors are

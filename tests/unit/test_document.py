"""The Document aggregate: given some events, when a command, then the events it adds."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from domain.document import Document, DocumentStatus, Stage, clean_filename
from domain.errors import InvalidCommand, NotFound
from domain.graph import Position
from domain.knowledge_base import IndexSettings, answering_settings, asked_settings
from domain.workflow import Workflow

SHA = "ab" * 32
LOCAL = IndexSettings("local", "all-MiniLM-L6-v2", 1000, 150)
SMALL = IndexSettings("local", "all-MiniLM-L6-v2", 500, 50)
MODEL = "local/all-MiniLM-L6-v2"


def uploaded(settings: IndexSettings = LOCAL, published: IndexSettings | None = None) -> Document:
    return Document.upload(
        uuid4(),
        uuid4(),
        "kb",
        "report.pdf",
        "application/pdf",
        1234,
        SHA,
        settings,
        "ada",
        published,
    )


def indexed(settings: IndexSettings = LOCAL, published: IndexSettings | None = None) -> Document:
    """A document indexed with `settings`, its events collected."""
    doc = uploaded(settings, published)
    for index in list(doc.indexes.values()):
        doc.mark_indexed(index.key, index.request, 3, 7, MODEL, "ingestion")
    doc.collect_events()
    return doc


def names(doc: Document) -> list[str]:
    return [type(e).__name__ for e in doc.collect_events()]


def generations(doc: Document) -> dict[int, DocumentStatus]:
    return {i.settings.chunk_size: i.status for i in doc.indexes.values()}


# ---------------------------------------------------------------- settings and their key


def test_the_key_names_what_decides_the_vectors_and_never_changes() -> None:
    keyed = IndexSettings("openai", "", 1000, 150, "http://x", api_key_ref="sec_1")

    assert LOCAL.key == "a2fceaf54779"  # stored in vector ids: it must stay what it was
    assert keyed.key == IndexSettings("openai", "", 1000, 150, "http://x", "sec_2").key
    assert len({LOCAL.key, SMALL.key, keyed.key, IndexSettings("openai", "", 1000, 150).key}) == 4
    assert LOCAL.same_vectors(IndexSettings("local", "all-MiniLM-L6-v2", 1000, 150, None, "s"))


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


# ---------------------------------------------------------------- upload and outcomes


def test_an_upload_is_pending_with_the_settings_of_its_knowledge_base() -> None:
    doc = uploaded()

    assert names(doc) == ["DocumentUploaded"]
    assert (doc.status, doc.blob_key, doc.settings, doc.draft, doc.published) == (
        DocumentStatus.PENDING,
        SHA,
        LOCAL,
        LOCAL,
        None,
    )
    [index] = doc.indexes.values()
    assert (index.key, index.request, index.status, index.legacy) == (
        LOCAL.key,
        1,
        DocumentStatus.PENDING,
        False,
    )
    assert doc.last_actor == "ada"


def test_an_upload_to_a_node_published_with_other_settings_is_indexed_for_both() -> None:
    doc = uploaded(SMALL, published=LOCAL)

    assert names(doc) == ["DocumentUploaded", "DocumentSettingsChanged", "DocumentIndexRequested"]
    assert generations(doc) == {500: DocumentStatus.PENDING, 1000: DocumentStatus.PENDING}
    assert (doc.settings, doc.live_key) == (SMALL, LOCAL.key)


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

    assert doc.mark_indexed(LOCAL.key, 1, 10, 42, MODEL, "ingestion")
    assert not doc.mark_indexed(LOCAL.key, 1, 10, 42, MODEL, "ingestion")

    assert names(doc) == ["DocumentIndexed"]
    assert (doc.status, doc.shown.page_count, doc.shown.chunk_count) == (  # type: ignore[union-attr]
        DocumentStatus.INDEXED,
        10,
        42,
    )


def test_an_outcome_for_a_superseded_request_or_a_dropped_generation_is_dropped() -> None:
    doc = uploaded()
    retried = doc.reindex("asked for", "ada")
    doc.collect_events()

    assert retried.request == 2
    assert not doc.mark_indexed(LOCAL.key, 1, 10, 42, MODEL, "ingestion")
    assert not doc.mark_failed(LOCAL.key, 1, Stage.EMBED, "too late", "ingestion")
    assert not doc.mark_indexed(SMALL.key, 2, 10, 42, MODEL, "ingestion")  # no such generation
    assert doc.mark_failed(LOCAL.key, 2, Stage.EMBED, "The OpenAI API key was refused.", "i")
    assert names(doc) == ["DocumentFailed"]
    assert (doc.status, doc.shown.failed_stage, doc.shown.error) == (  # type: ignore[union-attr]
        DocumentStatus.FAILED,
        "embed",
        "The OpenAI API key was refused.",
    )


def test_a_removed_document_takes_no_outcome_and_cannot_be_removed_again() -> None:
    doc = uploaded()
    doc.remove("ada")

    assert doc.removed and doc.status == DocumentStatus.REMOVED
    assert not doc.mark_indexed(LOCAL.key, 1, 1, 1, "m", "ingestion")
    assert doc.index_for(SMALL, None, "settings changed", "ada") == []
    with pytest.raises(NotFound):
        doc.remove("ada")
    with pytest.raises(NotFound):
        doc.reindex("again", "ada")


# ---------------------------------------------------------------- generations


def test_an_edit_in_the_draft_builds_a_generation_beside_the_published_one() -> None:
    doc = indexed(published=LOCAL)

    requested = doc.index_for(SMALL, LOCAL, "settings changed", "ada")

    assert names(doc) == ["DocumentSettingsChanged", "DocumentIndexRequested"]
    assert [i.settings for i in requested] == [SMALL]
    assert generations(doc) == {1000: DocumentStatus.INDEXED, 500: DocumentStatus.PENDING}
    assert doc.status == DocumentStatus.PENDING  # the panel shows the draft's
    assert doc.live_key == LOCAL.key


def test_a_build_of_the_new_settings_drops_the_old_generation() -> None:
    doc = indexed(published=LOCAL)
    doc.index_for(SMALL, LOCAL, "settings changed", "ada")
    doc.mark_indexed(SMALL.key, doc.requests, 2, 14, MODEL, "ingestion")
    doc.collect_events()

    doc.index_for(SMALL, SMALL, "published", "ada")

    events = doc.collect_events()
    assert [type(e).__name__ for e in events] == [
        "DocumentSettingsChanged",
        "DocumentIndexDropped",
    ]
    dropped: Any = events[1]
    assert (dropped.key, dropped.embedding_model, dropped.legacy) == (LOCAL.key, MODEL, False)
    assert generations(doc) == {500: DocumentStatus.INDEXED}


def test_going_back_to_settings_still_indexed_reuses_their_generation() -> None:
    doc = indexed(published=LOCAL)
    doc.index_for(SMALL, LOCAL, "settings changed", "ada")
    doc.collect_events()

    requested = doc.index_for(LOCAL, LOCAL, "rolled back", "ada")

    assert requested == []
    assert names(doc) == ["DocumentSettingsChanged", "DocumentIndexDropped"]
    assert generations(doc) == {1000: DocumentStatus.INDEXED}
    assert doc.status == DocumentStatus.INDEXED


def test_what_is_already_asked_for_changes_nothing() -> None:
    doc = indexed(published=LOCAL)

    assert doc.follows(LOCAL, LOCAL)
    assert doc.index_for(LOCAL, LOCAL, "moved", "ada") == []
    assert doc.index_for(None, None, "node in no version", "ada") == []
    assert names(doc) == []


def test_a_node_left_in_the_published_version_only_keeps_that_generation() -> None:
    doc = indexed(SMALL, published=LOCAL)

    doc.index_for(None, LOCAL, "node removed from the draft", "ada")

    assert names(doc) == ["DocumentSettingsChanged", "DocumentIndexDropped"]
    assert (doc.settings, doc.status) == (LOCAL, DocumentStatus.INDEXED)


def test_a_new_api_key_mends_a_failed_embedding_but_leaves_an_indexed_one() -> None:
    old = IndexSettings("openai", "", 1000, 150, api_key_ref="sec_old")
    new = IndexSettings("openai", "", 1000, 150, api_key_ref="sec_new")
    doc = indexed(old)

    assert doc.index_for(new, None, "key changed", "ada") == []  # same vectors: kept
    failing = uploaded(old)
    failing.mark_failed(old.key, 1, Stage.EMBED, "The OpenAI API key was refused.", "i")
    failing.collect_events()

    [again] = failing.index_for(new, None, "key changed", "ada")

    assert (again.request, again.settings.api_key_ref) == (2, "sec_new")
    assert failing.status == DocumentStatus.PENDING


# ---------------------------------------------------------------- events stored before


def test_an_index_recorded_before_generations_is_the_one_index_in_its_old_layout() -> None:
    doc = uploaded()
    doc.collect_events()
    # DocumentIndexed version 1 named no key: upcast, its key is None
    doc.trigger_event(
        Document.DocumentIndexed,
        key=None,
        request=1,
        page_count=3,
        chunk_count=7,
        embedding_model=MODEL,
        actor="ingestion",
    )

    assert doc.status == DocumentStatus.INDEXED
    assert doc.shown.legacy  # type: ignore[union-attr]


def test_an_old_reindex_request_replaced_the_one_index_in_place() -> None:
    doc = indexed()
    doc.trigger_event(
        Document.DocumentReindexRequested,
        generation=2,
        settings=SMALL.to_dict(),
        reason="settings changed",
        actor="ingestion",
    )

    assert generations(doc) == {500: DocumentStatus.PENDING}
    assert (doc.settings, doc.requests) == (SMALL, 2)


def test_the_upcasts_name_the_request_and_leave_the_key_unknown() -> None:
    for event_class in (Document.DocumentIndexed, Document.DocumentFailed):
        state: dict[str, Any] = {"generation": 3, "actor": "ingestion"}
        event_class.upcast_v1_v2(state)  # type: ignore[attr-defined]
        assert state == {"request": 3, "key": None, "actor": "ingestion"}


def test_replaying_the_events_gives_the_same_document() -> None:
    doc = uploaded(published=LOCAL)
    doc.mark_indexed(LOCAL.key, 1, 3, 7, MODEL, "ingestion")
    doc.index_for(SMALL, LOCAL, "settings changed", "ada")
    doc.mark_failed(SMALL.key, 2, Stage.CHUNK, "bad overlap", "ingestion")
    events = doc.collect_events()

    replayed = None
    for e in events:
        replayed = e.mutate(replayed)

    assert isinstance(replayed, Document)
    assert replayed.indexes == doc.indexes
    assert (replayed.draft, replayed.published, replayed.requests) == (SMALL, LOCAL, 2)
    assert replayed.status == DocumentStatus.FAILED


# ---------------------------------------------------------------- what a workflow asks for


def published_twice() -> Workflow:
    """Knowledge base `kb` published as v1 with chunks of 1000, then as v2 with 500."""
    wf = Workflow.create("Support", "", "ada")
    for node_id, kind in (("q", "USER_QUERY"), ("kb", "KNOWLEDGE_BASE"), ("out", "OUTPUT")):
        wf.add_node(node_id, kind, Position(0, 0), "ada")
    wf.add_node("llm", "LLM_ENGINE", Position(0, 0), "ada", config={"provider": "extractive"})
    for edge, source, target in (("a", "q", "kb"), ("b", "q", "llm"), ("c", "kb", "llm")):
        wf.connect(edge, source, target, "ada")
    wf.connect("d", "llm", "out", "ada")
    wf.publish("v1", "ada")
    wf.configure_node("kb", {"chunkSize": 500, "chunkOverlap": 50}, "ada")
    wf.publish("v2", "ada")
    return wf


def test_a_knowledge_base_asks_for_the_drafts_settings_and_the_newest_published_ones() -> None:
    wf = published_twice()
    wf.configure_node("kb", {"chunkSize": 300}, "ada")

    draft, published = asked_settings(wf, "kb")

    assert (draft and draft.chunk_size, published and published.chunk_size) == (300, 500)
    wf.remove_node("kb", "ada")
    assert asked_settings(wf, "kb") == (None, SMALL)
    assert asked_settings(wf, "nowhere") == (None, None)


def test_a_published_version_answers_from_its_generation_an_older_one_from_the_newest() -> None:
    wf = published_twice()
    v1, v2 = (next(n for n in v.nodes if n.id == "kb") for v in wf.published)

    assert answering_settings(wf, v2) == SMALL
    assert answering_settings(wf, v1) == SMALL  # its own generation is not kept
    wf.configure_node("kb", {"chunkSize": 1000, "chunkOverlap": 150}, "ada")
    assert answering_settings(wf, v1) == LOCAL  # the draft has its settings again

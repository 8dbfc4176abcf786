"""Every event of a stack's history in people's words, with old → new values; a secret only
ever said to have changed; documents' events placed where they happened."""

from __future__ import annotations

import uuid
from typing import Any

from application.workflow.history import compare, document_entries, replay
from application.workflow.views import ChangeCategory, HistoryEntry
from domain.document import Document, IndexSettings, Stage
from domain.graph import Node, Position
from domain.workflow import Workflow
from tests.unit.test_workflow import ME, SECRET, new_workflow
from tests.unit.test_workflow import wired as wired_workflow

YOU = "bob"


def wired() -> Workflow:
    return wired_workflow(new_workflow())


def history(wf: Workflow) -> list[HistoryEntry]:
    return replay(wf.collect_events())


def last(wf: Workflow) -> HistoryEntry:
    return history(wf)[-1]


def texts(entry: HistoryEntry) -> list[str]:
    return [c.text for c in entry.changes]


def test_creating_adding_and_connecting_read_as_sentences() -> None:
    entries = history(wired())
    assert [e.summary for e in entries] == [
        "Created “Support bot”",
        "Added User Query",
        "Added Knowledge Base",
        "Added LLM Engine",
        "Added Output",
        "Connected User Query → Knowledge Base",
        "Connected User Query → LLM Engine",
        "Connected Knowledge Base → LLM Engine",
        "Connected LLM Engine → Output",
    ]
    assert {e.category for e in entries} == {ChangeCategory.STRUCTURE}
    assert [e.version for e in entries] == list(range(1, 10))
    assert all(e.published is None for e in entries)


def test_a_setting_reads_with_its_title_and_old_and_new_values() -> None:
    wf = wired()
    wf.configure_node("kb", {"topK": 3}, ME)
    entry = last(wf)
    assert entry.summary == "Knowledge Base: Passages per question 4 → 3"
    [change] = entry.changes
    assert (change.field, change.label, change.before, change.after) == (
        "config.topK",
        "Passages per question",
        "4",
        "3",
    )
    assert (change.node_id, entry.category) == ("kb", ChangeCategory.SETTINGS)


def test_choices_read_in_words_and_a_key_only_as_changed() -> None:
    wf = wired()
    wf.configure_node("llm", {"provider": "openai", "model": "gpt-4o-mini", "apiKey": SECRET}, ME)
    wf.configure_node("llm", {"apiKey": {"secretRef": "sec_2", "hint": "…9876"}}, ME)
    wf.configure_node("llm", {"apiKey": None, "temperature": 0.7, "webSearch": True}, ME)
    first, second, third = history(wf)[-3:]
    assert first.summary == (
        "LLM Engine: Provider Extractive (offline) → OpenAI; Model set to gpt-4o-mini; "
        "API key added"
    )
    assert second.summary == "LLM Engine: API key changed"
    assert texts(third) == ["API key removed", "Temperature 0.2 → 0.7", "Web search off → on"]
    for entry in (first, second, third):
        for change in entry.changes:
            if change.field == "config.apiKey":
                assert change.before is None and change.after is None
        assert "abcd" not in str(entry.changes) + entry.summary
        assert "9876" not in str(entry.changes) + entry.summary


def test_a_long_text_is_said_to_have_changed() -> None:
    wf = wired()
    wf.configure_node("llm", {"prompt": "Just answer {query} " * 5}, ME)
    wf.describe("A stack that answers questions about the rover from its manual.", ME)
    wf.describe("Rover Q&A", ME)
    prompt, described, redescribed = history(wf)[-3:]
    assert prompt.summary == "LLM Engine: Prompt changed"
    assert prompt.changes[0].after == "Just answer {query} " * 5
    assert described.summary == "Described the stack"
    assert texts(described) == ["Description changed"]
    assert texts(redescribed) == ["Description changed"]


def test_names_moves_and_labels() -> None:
    wf = wired()
    wf.rename("Rover helper", ME)
    wf.move_node("kb", Position(250.4, 80), ME)
    wf.relabel_node("kb", "Rover manual", ME)
    renamed, moved, relabelled = history(wf)[-3:]
    assert renamed.summary == "Renamed “Support bot” → “Rover helper”"
    assert (renamed.changes[0].before, renamed.changes[0].after) == ("Support bot", "Rover helper")
    assert moved.summary == "Moved Knowledge Base" and moved.category == ChangeCategory.LAYOUT
    assert texts(moved) == ["Moved (200, 0) → (250, 80)"]
    assert relabelled.summary == "Renamed node “Knowledge Base” → “Rover manual”"
    assert relabelled.category == ChangeCategory.SETTINGS


def test_later_entries_name_a_node_by_its_label_then() -> None:
    wf = wired()
    wf.relabel_node("q", "Question", ME)
    wf.disconnect("e2", ME)
    wf.remove_node("kb", ME)
    _, disconnected, removed = history(wf)[-3:]
    assert disconnected.summary == "Disconnected Question → LLM Engine"
    assert removed.summary == "Removed Knowledge Base and its 2 connections"
    assert texts(removed) == ["Removed Knowledge Base"]


def test_an_import_and_a_rollback_tally_what_they_changed() -> None:
    wf = wired()
    events = list(wf.collect_events())
    wf.import_graph(
        [
            Node.from_dict(
                {"id": "q", "kind": "USER_QUERY", "label": "Ask", "position": {"x": 0, "y": 0}}
            ),
            Node.from_dict(
                {"id": "o", "kind": "OUTPUT", "label": "Show", "position": {"x": 1, "y": 0}}
            ),
        ],
        [],
        ME,
    )
    earlier = None
    for e in events[:3]:
        earlier = e.mutate(earlier)
    assert isinstance(earlier, Workflow)
    wf.rename("Elsewhere", ME)
    wf.roll_back(3, earlier, ME)
    entries = replay([*events, *wf.collect_events()])
    imported, _, rolled = entries[-3:]
    assert imported.summary == (
        "Imported a graph: 1 node added, 3 nodes removed, 1 node changed, 4 connections removed"
    )
    assert texts(imported) == [
        "Renamed node “User Query” → “Ask”",
        "Added Show",
        "Removed Knowledge Base",
        "Removed LLM Engine",
        "Removed Output",
    ]
    assert rolled.summary == (
        "Rolled back to Draft · change 3: 1 node added, 1 node removed, 1 node changed, "
        "renamed “Support bot”"
    )
    assert rolled.category == ChangeCategory.VERSIONS
    assert texts(rolled)[0] == "Renamed “Elsewhere” → “Support bot”"


def test_publishing_numbers_what_comes_after_it() -> None:
    wf = wired()
    wf.publish("first cut", ME)
    wf.move_node("kb", Position(1, 1), ME)
    wf.publish("", ME)
    entries = history(wf)
    assert [e.summary for e in entries[-3:]] == [
        "Published v1: “first cut”",
        "Moved Knowledge Base",
        "Published v2",
    ]
    assert [e.published for e in entries[-4:]] == [None, 1, 1, 2]
    assert entries[-1].category == ChangeCategory.VERSIONS and entries[-1].changes == ()


def test_undo_and_redo_name_what_they_take_back_and_mark_it() -> None:
    wf = wired()
    wf.move_node("kb", Position(9, 9), ME)
    wf.configure_node("kb", {"topK": 2}, ME)
    wf.undo(ME)
    wf.undo(ME)
    wf.redo(ME)
    entries = history(wf)
    moved, configured, undid1, undid2, redid = entries[-5:]
    assert undid1.summary == "Undid: Knowledge Base: Passages per question 4 → 2"
    assert texts(undid1) == ["Passages per question 2 → 4"]
    assert undid1.category == ChangeCategory.SETTINGS
    assert undid2.summary == "Undid: Moved Knowledge Base" and undid2.category == "LAYOUT"
    assert redid.summary == "Redid: Moved Knowledge Base"
    assert (moved.undone, configured.undone) == (False, True)


def test_an_undo_left_with_nothing_to_change_says_so() -> None:
    wf = wired()
    wf.relabel_node("kb", "Manuals", ME)
    wf.remove_node("kb", YOU)
    wf.undo(ME)
    assert last(wf).summary == (
        "Undid: Renamed node “Knowledge Base” → “Manuals” (nothing left to change)"
    )


def test_deleting_and_unknown_events_read_sensibly() -> None:
    wf = wired()
    wf.delete(ME)
    assert last(wf).summary == "Deleted the stack"

    class NodesAligned(Workflow.Event):  # a kind of event this code does not describe
        actor: str

        def apply(self, aggregate: Any) -> None:
            pass

    wf = wired()
    wf.trigger_event(NodesAligned, actor=ME)
    assert last(wf).summary == "Nodes aligned"


def test_a_change_that_changes_nothing_says_so() -> None:
    wf = wired()
    wf.move_node("kb", Position(200, 0), ME)
    wf.configure_node("kb", {"topK": 4}, ME)
    moved, configured = history(wf)[-2:]
    assert moved.summary == "Moved Knowledge Base (no change)"
    assert configured.summary == "Saved the settings of Knowledge Base (no change)"


def test_documents_events_read_in_words_at_the_change_then_current() -> None:
    wf = wired()
    changes = history(wf)
    first = IndexSettings.of_node({})
    doc = Document.upload(
        uuid.uuid4(), wf.id, "kb", "manual.pdf", "application/pdf", 10, "a" * 64, first, ME
    )
    doc.mark_indexed(first.key, 1, 12, 34, "local/x", "ingestion")
    smaller = IndexSettings.of_node({"chunkSize": 500})
    doc.index_for(smaller, first, "settings changed", "ingestion")  # the draft's, beside
    doc.mark_failed(smaller.key, 2, Stage.EXTRACT, "no text in the PDF", "ingestion")
    doc.index_for(smaller, None, "not published", "ingestion")  # the first one is dropped
    doc.remove(ME)

    class DocumentGenerationBuilt(Document.Event):  # another kind, described by its name
        def apply(self, aggregate: Any) -> None:
            pass

    doc.trigger_event(DocumentGenerationBuilt)
    entries = document_entries(doc.collect_events(), {"kb": "Rover manual"}, changes)
    assert [e.summary for e in entries] == [
        "Uploaded “manual.pdf” to Rover manual",
        "Indexed “manual.pdf”: 12 pages, 34 passages",
        "Indexing “manual.pdf” for the draft (settings changed)",
        "Couldn't index “manual.pdf” for the draft: no text in the PDF",
        "Dropped an index of “manual.pdf” no version uses (not published)",
        "Removed “manual.pdf”",
        "Generation built: “manual.pdf”",
    ]
    assert {e.category for e in entries} == {ChangeCategory.DOCUMENTS}
    assert {e.version for e in entries} == {9}  # after the last change
    assert len({e.id for e in entries}) == 7  # its settings' bookkeeping is not told


def test_a_comparison_lists_nodes_field_by_field_and_edges_by_their_nodes() -> None:
    wf = wired()
    old = None
    for e in wf.collect_events():
        old = e.mutate(old)
    assert isinstance(old, Workflow)
    wf.remove_node("kb", ME)
    wf.relabel_node("llm", "Writer", ME)
    result = compare(old, wf, wf.published)
    assert [(n.status, n.change.id) for n in result.nodes] == [
        ("CHANGED", "llm"),
        ("REMOVED", "kb"),
    ]
    [label] = result.nodes[0].fields
    assert label.text == "Renamed node “LLM Engine” → “Writer”"
    removed = result.nodes[1].fields
    assert removed[0].text == "Removed Knowledge Base"
    assert [f.label for f in removed[1:]][:2] == ["Embedder", "Embedding model"]
    assert all(f.after is None for f in removed[1:])
    assert [e.line.text for e in result.edges] == [
        "Disconnected User Query → Knowledge Base",
        "Disconnected Knowledge Base → Writer",
    ]
    assert (result.from_label, result.to_label) == ("Draft · change 9", "Draft · change 11")


def test_a_new_address_clears_the_key_and_the_history_says_so() -> None:
    wf = wired()
    wf.configure_node("llm", {"provider": "openai", "model": "m", "apiKey": SECRET}, ME)
    wf.configure_node("llm", {"baseUrl": "http://10.0.0.5:11434/v1"}, ME)
    assert "secretRef" not in wf.nodes["llm"].config["apiKey"]
    entry = last(wf)
    assert texts(entry) == [
        "API key cleared: enter it again for the new address",
        "Base URL set to http://10.0.0.5:11434/v1",
    ]
    assert (entry.changes[0].before, entry.changes[0].after) == (None, None)

"""The generation bookkeeping of a Document, for any sequence of edits, Builds and outcomes:
a property-based test (hypothesis) of what the aggregate promises.

- after the knowledge base asks, the document has exactly the asked generations;
- a generation complete and still asked stays complete (nothing is embedded again);
- an outcome for a request that no longer stands changes nothing;
- the events replayed give the same document.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from domain.document import Document, DocumentStatus, Stage, wanted_settings
from domain.knowledge_base import IndexSettings

POOL = [
    IndexSettings("local", "all-MiniLM-L6-v2", 1000, 150),
    IndexSettings("local", "all-MiniLM-L6-v2", 500, 50),
    IndexSettings("openai", "", 800, 100, "http://x", "sec_1"),
    IndexSettings("openai", "", 800, 100, "http://x", "sec_2"),  # the same vectors, a new key
]
SHA = "cd" * 32


class Generations(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.draft: IndexSettings | None = POOL[0]
        self.published: IndexSettings | None = None
        self.doc = Document.upload(
            uuid4(), uuid4(), "kb", "a.pdf", "application/pdf", 10, SHA, POOL[0], "ada"
        )
        self.events: list[Any] = list(self.doc.collect_events())

    # ---------------------------------------------------------------- the knowledge base

    def ask(self) -> None:
        before = {k for k, i in self.doc.indexes.items() if i.complete}
        wanted = wanted_settings(self.draft, self.published)
        self.doc.index_for(self.draft, self.published, "asked", "ada")
        self.record()
        if self.draft is None and self.published is None:
            return
        assert set(self.doc.indexes) == {s.key for s in wanted}
        for key in before & set(self.doc.indexes):
            assert self.doc.indexes[key].complete, self.doc.indexes[key]

    @rule(choice=st.sampled_from(POOL))
    def edit_the_draft(self, choice: IndexSettings) -> None:
        self.draft = choice
        self.ask()

    @precondition(lambda self: self.draft is not None)
    @rule()
    def build(self) -> None:
        self.published = self.draft
        self.ask()

    @precondition(lambda self: self.published is not None)
    @rule()
    def remove_the_node_from_the_draft(self) -> None:
        self.draft = None
        self.ask()

    # ---------------------------------------------------------------- the ingestion

    @rule(data=st.data(), succeeds=st.booleans())
    def an_outcome_arrives(self, data: st.DataObject, succeeds: bool) -> None:
        if not self.doc.indexes:
            return
        key = data.draw(st.sampled_from(sorted(self.doc.indexes)))
        index = self.doc.indexes[key]
        stale = data.draw(st.booleans())
        request = index.request - 1 if stale else index.request
        if succeeds:
            done = self.doc.mark_indexed(key, request, 2, 5, "m", "ingestion")
        else:
            done = self.doc.mark_failed(key, request, Stage.EMBED, "refused", "ingestion")
        wanted = DocumentStatus.INDEXED if succeeds else DocumentStatus.FAILED
        assert done == (not stale and index.status != wanted)
        if stale:
            assert self.doc.indexes[key] == index
        self.record()

    @rule()
    def retry(self) -> None:
        if not self.doc.removed:
            self.doc.reindex("asked for", "ada")
            self.record()

    # ---------------------------------------------------------------- promises

    def record(self) -> None:
        self.events.extend(self.doc.collect_events())

    @invariant()
    def replaying_gives_the_same_document(self) -> None:
        replayed = None
        for e in self.events:
            replayed = e.mutate(replayed)
        assert isinstance(replayed, Document)
        assert replayed.indexes == self.doc.indexes
        assert (replayed.draft, replayed.published) == (self.doc.draft, self.doc.published)
        assert replayed.status == self.doc.status

    @invariant()
    def each_generation_stands_for_its_own_request(self) -> None:
        requests = [i.request for i in self.doc.indexes.values()]
        assert len(set(requests)) == len(requests)
        assert all(r <= self.doc.requests for r in requests)
        assert self.doc.settings.key in self.doc.indexes


Generations.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestGenerations = Generations.TestCase

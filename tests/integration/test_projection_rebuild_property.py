"""A rebuild replays the log once for every read model, in large pages, each projection's
page in one transaction with its rows gathered and written at once (COPY on PostgreSQL):
over random histories of stacks, documents, workspaces and chats, hundreds of events long,
every read table ends exactly as applying the events one at a time, one transaction each,
leaves it, wherever the pages begin and end."""

from __future__ import annotations

import hashlib
import random
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from domain.chat import AnsweredBy, ChatSession, Rating
from domain.document import Document
from domain.graph import Position
from domain.node_settings import IndexSettings
from domain.workflow import Workflow
from domain.workspace import Role, Workspace
from infrastructure.readmodel import bulk, rebuild
from infrastructure.readmodel.runner import LogRead, ProjectionWorker
from infrastructure.readmodel.tables import projection_failures, projection_tracking
from infrastructure.settings import Settings
from interfaces.bootstrap import Services, bootstrap
from tests.histories import save_random_steps

READ_MODELS = ("workflows", "documents", "chats", "workspaces", "audit_log")
SQL_MODELS = ("chats", "audit_log")  # rebuilt by PostgreSQL's SQL, on PostgreSQL
ACTORS = ("ann@example.com", "bob@example.com", "system")


class History:
    """Random changes to a few aggregates of each kind, saved a few events at a time."""

    def __init__(self, services: Services, rng: random.Random) -> None:
        self.store, self.rng = services.event_log, rng
        self.stacks: list[Workflow] = []
        self.documents: list[Document] = []
        self.chats: list[ChatSession] = []
        self.answers: dict[uuid.UUID, list[uuid.UUID]] = {}
        self.workspaces: list[Workspace] = []

    def write(self, events: int) -> None:
        steps = [self.stack, self.document, self.chat, self.workspace]
        save_random_steps(self.store, events, self.rng, steps, [3, 1, 6, 1])

    def actor(self) -> str:
        return self.rng.choice(ACTORS)

    def stack(self) -> Any:
        rng = self.rng
        if not self.stacks or rng.random() < 0.15:
            home = (
                rng.choice(self.workspaces).id if self.workspaces and rng.random() < 0.5 else None
            )
            wf = Workflow.create(f"stack {len(self.stacks)}", "", self.actor(), home)
            self.stacks.append(wf)
            return wf
        wf = rng.choice(self.stacks)
        if wf.deleted:
            return None
        n = len(wf.nodes)
        kind = rng.choice(["LLM_ENGINE", "KNOWLEDGE_BASE", "USER_QUERY", "OUTPUT"])
        pick = rng.random()
        if pick < 0.35:
            wf.add_node(f"n{n}_{rng.randint(0, 999)}", kind, Position(n, 2 * n), self.actor())
        elif pick < 0.5 and wf.nodes:
            node = rng.choice(list(wf.nodes))
            wf.move_node(node, Position(rng.randint(0, 99), 5), self.actor())
        elif pick < 0.6:
            wf.rename(f"stack {rng.randint(0, 99)} \u00e9t\u00e9", self.actor())
        elif pick < 0.7:
            wf.describe("what it does " * rng.randint(0, 3), self.actor())
        elif pick < 0.8 and len(wf.nodes) >= 2:
            source, target = rng.sample(list(wf.nodes), 2)
            wf.connect(f"e{rng.randint(0, 9999)}", source, target, self.actor())
        elif pick < 0.85 and wf.nodes:
            wf.remove_node(rng.choice(list(wf.nodes)), self.actor())
        elif pick < 0.95:
            wf.publish(f"note {rng.randint(0, 9)}", self.actor())
        elif pick < 0.97:
            wf.delete(self.actor())
        else:
            return None
        return wf

    def document(self) -> Any:
        rng = self.rng
        if not self.stacks:
            return None
        if not self.documents or rng.random() < 0.5:
            wf = rng.choice(self.stacks)
            data = uuid.uuid4().bytes
            doc = Document.upload(
                uuid.uuid4(),
                wf.id,
                "kb",
                f"file {rng.randint(0, 99)}.pdf",
                "application/pdf",
                rng.randint(1, 10**6),
                hashlib.sha256(data).hexdigest(),
                IndexSettings("local", "all-MiniLM-L6-v2", rng.choice([500, 1000]), 50),
                self.actor(),
            )
            self.documents.append(doc)
            return doc
        doc = rng.choice(self.documents)
        if rng.random() < 0.7:
            doc.reindex("asked again", self.actor())
        else:
            doc.remove(self.actor())
        return doc

    def chat(self) -> Any:
        rng = self.rng
        if not self.chats or rng.random() < 0.2:
            # mostly on stacks that exist; now and then on one the log never had
            stack = rng.choice(self.stacks).id if self.stacks and rng.random() < 0.9 else None
            chat = ChatSession.start(stack or uuid.uuid4(), rng.choice([None, 1]), self.actor())
            self.chats.append(chat)
            return chat
        chat = rng.choice(self.chats)
        answers = self.answers.setdefault(chat.id, [])
        pick = rng.random()
        if chat.pending and pick < 0.7:
            question = chat.pending[0].id
            if rng.random() < 0.2:
                chat.fail(question, "PROVIDER_ERROR", "away", "system", AnsweredBy(3))
            else:
                model = rng.choice(["gpt-4o-mini", "a-model-with-no-price"])
                tokens = {"prompt_tokens": rng.randint(1, 900), "completion_tokens": 7}
                answers.append(chat.answer(question, "an answer", [], model, tokens, 40, "system"))
        elif answers and pick < 0.85:
            rating = rng.choice([Rating.UP, Rating.DOWN, None])
            chat.rate(rng.choice(answers), rating, "a note" if rating else "", self.actor())
        else:
            chat.ask(uuid.uuid4(), f"question {rng.randint(0, 99)}?", self.actor())
        return chat

    def workspace(self) -> Any:
        rng = self.rng
        if not self.workspaces or rng.random() < 0.3:
            ws = Workspace.create(f"team {len(self.workspaces)}", "ann@example.com", "system")
            self.workspaces.append(ws)
            return ws
        ws = rng.choice(self.workspaces)
        user = rng.choice(["bob@example.com", "cy@example.com", "dee@example.com"])
        if user in ws.members and rng.random() < 0.4:
            ws.remove_member(user, "ann@example.com")
        else:
            ws.add_member(user, rng.choice(list(Role)), "ann@example.com")
        return ws


def read_models(services: Services) -> list[ProjectionWorker]:
    return [w for w in services.workers if w.projection.name in READ_MODELS]


def rows(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the read models and their positions; floats to 9 places (a page adds
    an answer's cost up in another order)."""

    def plain(row: Any) -> tuple[Any, ...]:
        return tuple(round(v, 9) if isinstance(v, float) else v for v in row)

    tables = [t for w in read_models(services) for t in w.projection.tables]
    with services.read_db.connect() as conn:
        found = {
            t.name: sorted(
                (plain(r) for r in conn.execute(select(t))), key=lambda r: [str(v) for v in r]
            )
            for t in tables
        }
        found["positions"] = sorted(
            (r.projection, r.notification_id)
            for r in conn.execute(select(projection_tracking))
            if r.projection in READ_MODELS
        )
        failed = conn.execute(select(func.count()).select_from(projection_failures)).scalar()
    assert failed == 0
    return found


@pytest.mark.parametrize("backend", ["sqlite", "postgres"], indirect=True)
@hypothesis_settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 2**16),
    events=st.integers(150, 400),
    page=st.integers(1, 120),
    copy_from=st.sampled_from([1, 50]),
)
def test_a_rebuild_in_pages_gives_the_rows_of_one_event_at_a_time(
    settings: Settings, seed: int, events: int, page: int, copy_from: int
) -> None:
    services = bootstrap(settings)  # not started: the test drives the workers
    try:
        History(services, random.Random(seed)).write(events)
        workers = read_models(services)
        for worker in workers:
            worker._batched = False  # one event, one transaction
            worker.rebuild()
            worker._batched = True
        expected = rows(services)
        assert sum(len(v) for k, v in expected.items() if k == "audit_entries") >= events

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(rebuild, "PAGE", page)
            patch.setattr(bulk, "COPY_FROM", copy_from)
            counts = rebuild.replay(services.event_log, workers)
        last = services.event_log.max_notification_id()
        assert counts == {name: last for name in READ_MODELS}
        assert rows(services) == expected

        # and as the command runs it: its own page size, every read model at once
        assert dict(rebuild.rebuild_all(workers)) == counts
        assert rows(services) == expected
    finally:
        services.stop()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@hypothesis_settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**16), events=st.integers(150, 400), page=st.integers(1, 60))
def test_a_pass_that_reads_only_its_topics_gives_the_rows_of_a_pass_over_every_event(
    settings: Settings, seed: int, events: int, page: int
) -> None:
    """With chats and the audit log rebuilt by the database, the Python pass of the other
    read models reads of the log only the events of their topics (and its last event):
    the same rows, the same positions, the same counts and the same `LogRead` as a pass
    over every event, wherever the pages end."""
    services = bootstrap(settings)  # not started: the test drives the workers
    try:
        history = History(services, random.Random(seed))
        steps = [history.stack, history.document, history.chat, history.workspace]
        save_random_steps(services.event_log, events, history.rng, steps, [2, 1, 12, 1])
        # the log's last event: one that no read model of the pass handles, or one that
        # the workspaces read model does
        if seed % 2:
            services.event_log.save(ChatSession.start(uuid.uuid4(), None, "ann@example.com"))
        else:
            services.event_log.save(Workspace.create("the last", "ann@example.com", "system"))
        small = [w for w in read_models(services) if w.projection.name not in SQL_MODELS]
        store = services.event_log

        def python_pass(narrowed: bool) -> tuple[dict[str, int], Any, Any]:
            read = LogRead()
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(rebuild, "PAGE", page)
                if not narrowed:
                    patch.setattr(rebuild, "_narrowed", lambda *_: iter(()))
                read_counts: list[int] = []
                pages = rebuild._pages

                def counted(*args: Any) -> Any:
                    for p in pages(*args):
                        read_counts.append(len(p.notifications))
                        yield p

                patch.setattr(rebuild, "_pages", counted)
                counts = rebuild._python_pass(store, small, read)
            return counts, (read.topics, read.last.id, read.count), sum(read_counts)

        every, every_read, every_events = python_pass(narrowed=False)
        expected = rows(services)
        by_topic, by_topic_read, by_topic_events = python_pass(narrowed=True)
        last = store.max_notification_id()
        assert every == by_topic == {w.projection.name: last for w in small}
        assert by_topic_read == every_read
        assert rows(services) == expected
        assert every_events == last > by_topic_events  # it did read fewer
    finally:
        services.stop()

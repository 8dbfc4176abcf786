"""Rate limits (interfaces/limits.py), WebSocket bounds, workspace budgets and ingestion in
slices: the rules, without a server."""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.account.budgets import BudgetView, _until_next_month
from application.document.ingestion import index_steps, run_to_end
from application.errors import RateLimited, code_of
from application.ports import IndexedChunk, PageText, Partition, TextChunk
from domain.document import DocumentIndex
from domain.errors import InvalidCommand
from domain.knowledge_base import IndexSettings
from domain.policy import Principal
from domain.workspace import Budget
from interfaces.limits import ConnectionBounds, Kind, RequestLimits, TooManyConnections

ADA, BOB = Principal(user_id="ada"), Principal(user_id="bob")
TOKEN = Principal(token_id="t1", workspace_id="w")
LOCAL = Principal(user_id="local", local=True)


def limits(
    per_principal: str = "2/minute", per_address: str = "100/minute", **kw: bool
) -> RequestLimits:
    rules = {kind: ("", "") for kind in Kind}
    rules[Kind.QUESTION] = (per_principal, per_address)
    return RequestLimits(rules, **kw)


def test_past_its_limit_a_principal_is_refused_with_the_seconds_to_wait() -> None:
    counted = limits()
    counted.question(ADA, "10.0.0.1")
    counted.question(ADA, "10.0.0.1")
    with pytest.raises(RateLimited) as refused:
        counted.question(ADA, "10.0.0.1")
    assert 1 <= refused.value.retry_after <= 60
    assert str(refused.value).startswith("too many questions: try again in")
    assert code_of(refused.value) == "RATE_LIMITED"
    counted.question(BOB, "10.0.0.1")  # another user: a count of their own
    counted.question(TOKEN, "10.0.0.1")  # a token: its own, too


def test_the_principals_behind_one_address_share_its_limit() -> None:
    counted = limits("100/minute", "2/minute")
    counted.question(ADA, "10.0.0.1")
    counted.question(BOB, "10.0.0.1")
    with pytest.raises(RateLimited):
        counted.question(TOKEN, "10.0.0.1")
    counted.question(ADA, "10.0.0.2")


def test_kinds_are_counted_apart_and_an_empty_rule_is_no_limit() -> None:
    counted = limits("1/minute")
    counted.question(ADA, None)
    for _ in range(50):
        counted.mutation(ADA, None)
        counted.upload(ADA, None)
    with pytest.raises(RateLimited):
        counted.question(ADA, None)


def test_the_local_owner_is_limited_only_when_asked() -> None:
    free, counted = limits("1/minute"), limits("1/minute", limit_local_owner=True)
    for _ in range(5):
        free.question(LOCAL, "127.0.0.1")
    counted.question(LOCAL, "127.0.0.1")
    with pytest.raises(RateLimited):
        counted.question(LOCAL, "127.0.0.1")


def test_several_rules_each_hold() -> None:
    counted = limits("5/minute;2/hour")
    counted.question(ADA, None)
    counted.question(ADA, None)
    with pytest.raises(RateLimited) as refused:
        counted.question(ADA, None)
    assert refused.value.retry_after > 60  # the hour's window


def test_connections_are_bounded_per_principal_and_freed_on_leaving() -> None:
    bounds = ConnectionBounds(2)
    first = bounds.enter(ADA, "10.0.0.1")
    bounds.enter(ADA, "10.0.0.2")
    with pytest.raises(TooManyConnections, match="2 are open for you already"):
        bounds.enter(ADA, "10.0.0.3")
    bounds.enter(BOB, "10.0.0.1")
    bounds.enter(None, "10.0.0.9")  # nobody: counted by address
    bounds.enter(None, "10.0.0.9")
    with pytest.raises(TooManyConnections):
        bounds.enter(None, "10.0.0.9")
    bounds.leave(first)
    assert bounds.open_for(first) == 1
    bounds.enter(ADA, "10.0.0.3")


@given(
    tokens=st.one_of(st.none(), st.integers(-(2**40), 2**40)),
    cost=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
)
def test_a_budget_is_made_only_of_limits_that_can_be(
    tokens: int | None, cost: float | None
) -> None:
    valid_tokens = tokens is None or 0 <= tokens <= 2**31 - 1
    valid_cost = cost is None or (math.isfinite(cost) and 0 <= cost <= 10_000_000)
    if valid_tokens and valid_cost:
        assert Budget.of(tokens, cost) == Budget(tokens, cost)
    else:
        with pytest.raises(InvalidCommand):
            Budget.of(tokens, cost)


@pytest.mark.parametrize(
    ("tokens", "cost", "used_tokens", "used_cost", "exceeded"),
    [
        (None, None, 10**9, 10**6, False),
        (1000, None, 999, 0.0, False),
        (1000, None, 1000, 0.0, True),
        (None, 1.0, 10**9, 0.99, False),
        (None, 1.0, 0, 1.0, True),
        (0, None, 0, 0.0, True),
    ],
)
def test_a_budget_is_used_up_at_its_limit(
    tokens: int | None, cost: float | None, used_tokens: int, used_cost: float, exceeded: bool
) -> None:
    view = BudgetView(None, tokens, cost, datetime(2026, 12, 1).date(), used_tokens, used_cost)  # type: ignore[arg-type]
    assert view.exceeded is exceeded


def test_a_refusal_waits_until_the_month_ends_in_utc() -> None:
    assert _until_next_month(datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC)) == 30
    assert _until_next_month(datetime(2026, 2, 28, 0, 0, tzinfo=UTC)) == 24 * 3600


class _Embedder:
    model_id = "fake"

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [[1.0] for _ in texts]


class _Index:
    def __init__(self) -> None:
        self.upserted: list[int] = []

    def upsert(self, partition: Partition, chunks: list[IndexedChunk]) -> None:
        self.upserted.append(len(chunks))

    def delete(self, partition: Partition, where: dict[str, object]) -> None:
        pass


def test_a_document_is_indexed_in_slices_each_one_batch_or_a_few_pages() -> None:
    pages = [PageText(number=n, text=f"page {n}") for n in range(1, 21)]
    index = _Index()
    steps = index_steps(
        io.BytesIO(b""),
        document_id="d",
        metadata={},
        generation=DocumentIndex(IndexSettings("local", "", 100, 0), request=1),
        extract=lambda stream, progress: iter(pages),
        chunk=lambda ps, size, overlap: [TextChunk(i, p.number, p.text) for i, p in enumerate(ps)],
        embedder=_Embedder(),  # type: ignore[arg-type]
        index=index,  # type: ignore[arg-type]
        batch_size=6,
    )
    slices = 0
    upserted_by_slice = []
    while True:
        try:
            next(steps)
        except StopIteration as done:
            report = done.value
            break
        slices += 1
        upserted_by_slice.append(sum(index.upserted))
    assert (report.pages, report.chunks) == (20, 20)
    assert index.upserted == [6, 6, 6, 2]
    # 20 pages in slices of 8 (2 yields), after extraction (1), before each of 4 batches (4)
    assert slices == 2 + 1 + 4
    assert all(b - a <= 6 for a, b in zip(upserted_by_slice, upserted_by_slice[1:], strict=False))


def test_taken_all_at_once_the_slices_give_what_the_generator_returns() -> None:
    def steps():  # type: ignore[no-untyped-def]
        yield
        yield
        return "done"

    assert run_to_end(steps()) == "done"

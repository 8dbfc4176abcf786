"""A workspace's monthly budget for questions: set by an admin (a Workspace event), shown
with the month's use counted from the recorded usage; past it, a question fails with
RATE_LIMITED and a clear message, recorded nowhere, whichever way it is asked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from infrastructure.settings import Settings
from tests.fakes import FakeOpenAIServer
from tests.integration.accounts_client import served
from tests.integration.chat_ops import fake_llm, published_workflow, start_chat, stored, turn
from tests.integration.gql import GQL, GraphQLError
from tests.integration.workflow_ops import wait_for

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgres"])

DEFAULT = "0b1d2c9e-6a47-4c1e-9f0a-3d5e2a7c4b10"
BUDGET_FIELDS = "workspaceId monthlyTokens monthlyCostUsd month usedTokens usedCostUsd exceeded"
BUDGET = f"query($ws: UUID!) {{ workspaceBudget(workspaceId: $ws) {{ {BUDGET_FIELDS} }} }}"
SET = f"""mutation($ws: UUID!, $t: Int, $c: Float) {{
  setWorkspaceBudget(workspaceId: $ws, monthlyTokens: $t, monthlyCostUsd: $c) {{
    {BUDGET_FIELDS} }} }}"""
SEND = "mutation($s: UUID!, $c: String!) { sendMessage(sessionId: $s, content: $c) { id } }"


def budget(gql: GQL) -> dict[str, Any]:
    return dict(gql(BUDGET, ws=DEFAULT)["workspaceBudget"])


def refusal(gql: GQL, session: str) -> GraphQLError:
    with pytest.raises(GraphQLError) as refused:
        gql(SEND, s=session, c="one more?")
    return refused.value


@pytest.fixture
def client(settings: Settings) -> Any:
    with served(settings) as client:
        yield client


def test_past_its_token_budget_a_workspace_asks_no_more_until_an_admin_raises_it(
    client: TestClient, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reported_usage = {
        "prompt_tokens": 700,
        "completion_tokens": 300,
        "total_tokens": 1000,
    }
    gql = GQL(client)
    session = start_chat(gql, published_workflow(gql, fake_llm(fake_openai)))
    first = budget(gql)
    month = datetime.now(UTC).date().replace(day=1).isoformat()
    assert first == {
        "workspaceId": DEFAULT,
        "monthlyTokens": None,
        "monthlyCostUsd": None,
        "month": month,
        "usedTokens": 0,
        "usedCostUsd": 0.0,
        "exceeded": False,
    }

    set_ = gql(SET, ws=DEFAULT, t=1500, c=None)["setWorkspaceBudget"]
    assert (set_["monthlyTokens"], set_["monthlyCostUsd"], set_["exceeded"]) == (1500, None, False)
    turn(client, gql, session, "How tall is the lighthouse?")
    used = wait_for(lambda: (b := budget(gql))["usedTokens"] == 1000 and b)
    assert used["exceeded"] is False
    assert used["usedCostUsd"] == pytest.approx((700 * 0.15 + 300 * 0.6) / 1e6)
    turn(client, gql, session, "And how old is it?")  # within: 1000 < 1500
    assert wait_for(lambda: (b := budget(gql))["usedTokens"] == 2000 and b)["exceeded"] is True

    refused = refusal(gql, session)

    assert refused.code == "RATE_LIMITED"
    assert refused.message.startswith(
        f"This workspace has used 2,000 of its 1,500 tokens for {datetime.now(UTC):%B %Y} (UTC)"
    )
    assert "an admin of the workspace raises its budget" in refused.message
    wait = refused.errors[0]["extensions"]["retryAfter"]
    assert type(wait) is int and 0 < wait <= 31 * 24 * 3600
    assert len(stored(gql, session, 4)) == 4  # the refused question is nowhere

    gql(SET, ws=DEFAULT, t=None, c=None)
    assert len(turn(client, gql, session, "Now?")) > 0
    assert len(stored(gql, session, 6)) == 6


def test_a_cost_budget_counts_the_estimated_cost(
    client: TestClient, fake_openai: FakeOpenAIServer
) -> None:
    fake_openai.reported_usage = {
        "prompt_tokens": 1_000_000,
        "completion_tokens": 0,
        "total_tokens": 1_000_000,
    }
    gql = GQL(client)
    session = start_chat(gql, published_workflow(gql, fake_llm(fake_openai)))
    gql(SET, ws=DEFAULT, t=None, c=0.1)
    turn(client, gql, session, "A costly question?")  # $0.15, past $0.10
    wait_for(lambda: budget(gql)["exceeded"])

    refused = refusal(gql, session)

    assert refused.code == "RATE_LIMITED"
    assert "used $0.15 of its $0.10 for" in refused.message


def test_a_budget_is_a_number_that_can_be_one(client: TestClient) -> None:
    gql = GQL(client)
    for tokens, cost in ((-1, None), (None, -0.5), (None, 1e12)):
        with pytest.raises(GraphQLError) as refused:
            gql(SET, ws=DEFAULT, t=tokens, c=cost)
        assert refused.value.code == "BAD_USER_INPUT"
    assert budget(gql)["monthlyTokens"] is None
    assert gql(SET, ws=DEFAULT, t=0, c=None)["setWorkspaceBudget"]["exceeded"] is True

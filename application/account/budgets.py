"""A workspace's monthly budget for questions, and how much of it this month has used.

An admin sets it (`BudgetSet`, an event of the Workspace: who changed it is in the log). The
use is read from the usage the chats projection already counts (tokens and estimated cost of
every answer, by stack and day): the month so far (UTC) of every stack of the workspace.
`ChatService.send` asks `check` before it records a question, so every entrance that asks one
is held to it; past the budget a question fails with RATE_LIMITED, `retryAfter` the seconds
until the month ends. The use is what answers recorded so far: answers in flight when the
budget is reached may pass it a little (by one answer each), and a model without a price
counts toward a token budget only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol
from uuid import UUID

from application.account import commands as c
from application.account.handlers import Workspaces
from application.account.ports import Clock
from application.errors import RateLimited
from domain.policy import Action
from domain.workspace import Budget


class BudgetExceeded(RateLimited):
    """The workspace has used its budget for this month."""


@dataclass(frozen=True)
class MonthUse:
    tokens: int
    cost_usd: float


@dataclass(frozen=True)
class BudgetView:
    workspace_id: UUID
    monthly_tokens: int | None
    monthly_cost_usd: float | None
    month: date  # the first day of the month counted (UTC)
    used_tokens: int
    used_cost_usd: float

    @property
    def exceeded(self) -> bool:
        over_tokens = self.monthly_tokens is not None and self.used_tokens >= self.monthly_tokens
        over_cost = (
            self.monthly_cost_usd is not None and self.used_cost_usd >= self.monthly_cost_usd
        )
        return over_tokens or over_cost


class WorkspaceUsage(Protocol):
    def of_workspace(self, workspace_id: UUID, since: date) -> MonthUse:
        """Tokens and estimated cost of the answers of the workspace's stacks since `since`."""
        ...


class Budgets:
    def __init__(
        self,
        workspaces: Workspaces,
        usage: WorkspaceUsage,
        workspace_of: Callable[[UUID], UUID],
        clock: Clock,
    ) -> None:
        """`workspace_of(workflow_id)`: the workspace a stack belongs to."""
        self.workspaces, self.usage = workspaces, usage
        self.workspace_of, self.clock = workspace_of, clock

    def set(self, cmd: c.SetBudget) -> BudgetView:
        self.workspaces.load_for(cmd.workspace_id, cmd.principal, Action.MANAGE_BUDGET)
        budget = Budget.of(cmd.monthly_tokens, cmd.monthly_cost_usd)
        self.workspaces.change(cmd.workspace_id, lambda ws: ws.set_budget(budget, cmd.actor))
        return self.of(cmd.workspace_id)

    def of(self, workspace_id: UUID) -> BudgetView:
        """The budget and this month's use (the caller has checked who may see it)."""
        workspace = self.workspaces.find(workspace_id)
        budget = workspace.budget if workspace is not None else Budget()
        month = _month_start(self.clock())
        use = self.usage.of_workspace(workspace_id, month)
        return BudgetView(
            workspace_id,
            budget.monthly_tokens,
            budget.monthly_cost_usd,
            month,
            use.tokens,
            use.cost_usd,
        )

    def check(self, workflow_id: UUID) -> None:
        """Raises BudgetExceeded when the stack's workspace has used its month's budget."""
        workspace_id = self.workspace_of(workflow_id)
        workspace = self.workspaces.find(workspace_id)
        if workspace is None or workspace.budget == Budget():
            return
        view = self.of(workspace_id)
        if view.exceeded:
            raise BudgetExceeded(_until_next_month(self.clock()), _refusal(view))


def _month_start(now: datetime) -> date:
    return now.astimezone(UTC).date().replace(day=1)


def _until_next_month(now: datetime) -> int:
    now = now.astimezone(UTC)
    start = datetime(now.year + (now.month == 12), now.month % 12 + 1, 1, tzinfo=UTC)
    return max(1, math.ceil((start - now).total_seconds()))


def _refusal(view: BudgetView) -> str:
    month = view.month.strftime("%B %Y")
    if view.monthly_tokens is not None and view.used_tokens >= view.monthly_tokens:
        used = f"{view.used_tokens:,} of its {view.monthly_tokens:,} tokens"
    else:
        used = f"${view.used_cost_usd:,.2f} of its ${view.monthly_cost_usd or 0:,.2f}"
    return (
        f"This workspace has used {used} for {month} (UTC): questions are refused until the "
        "month ends or an admin of the workspace raises its budget."
    )

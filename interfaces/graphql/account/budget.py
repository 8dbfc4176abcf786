"""A workspace's monthly budget for questions: read by its members, set by its admins."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import strawberry

from application.account import commands as c
from application.account.access import Resource
from application.account.budgets import BudgetView
from domain.policy import Action
from interfaces.graphql.authorize import needs
from interfaces.graphql.context import Info
from interfaces.graphql.resolve import execute, read


@strawberry.type(
    description="What a workspace's questions may use in a calendar month (UTC), and what "
    "this month has used so far (answers recorded). Past either limit, questions fail with "
    "RATE_LIMITED until the month ends or an admin raises the budget."
)
class WorkspaceBudget:
    workspace_id: UUID
    monthly_tokens: int | None = strawberry.field(description="Null: no token limit")
    monthly_cost_usd: float | None = strawberry.field(
        description="Null: no cost limit (estimated from the server's price table)"
    )
    month: date = strawberry.field(description="The first day of the month counted")
    used_tokens: int
    used_cost_usd: float
    exceeded: bool

    @classmethod
    def of(cls, view: BudgetView) -> WorkspaceBudget:
        return cls(
            workspace_id=view.workspace_id,
            monthly_tokens=view.monthly_tokens,
            monthly_cost_usd=view.monthly_cost_usd,
            month=view.month,
            used_tokens=min(view.used_tokens, 2**31 - 1),  # a GraphQL Int
            used_cost_usd=view.used_cost_usd,
            exceeded=view.exceeded,
        )


@strawberry.type
class BudgetQueries:
    @strawberry.field(extensions=needs(Action.OPEN, Resource.WORKSPACE, "workspace_id"))
    async def workspace_budget(self, info: Info, workspace_id: UUID) -> WorkspaceBudget:
        view = await read(info.context.services.budgets.of, workspace_id)
        return WorkspaceBudget.of(view)


@strawberry.type
class BudgetMutations:
    @strawberry.mutation(
        extensions=needs(Action.MANAGE_BUDGET, Resource.WORKSPACE, "workspace_id"),
        description="Sets the workspace's monthly budget for questions (admins); a null "
        "limit is none.",
    )
    async def set_workspace_budget(
        self,
        info: Info,
        workspace_id: UUID,
        monthly_tokens: int | None = None,
        monthly_cost_usd: float | None = None,
    ) -> WorkspaceBudget:
        view = await execute(
            info,
            info.context.services.budgets.set,
            c.SetBudget,
            principal=info.context.principal,
            workspace_id=workspace_id,
            monthly_tokens=monthly_tokens,
            monthly_cost_usd=monthly_cost_usd,
        )
        return WorkspaceBudget.of(view)

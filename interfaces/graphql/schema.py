"""The served schema: a superset of the contract."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter

from interfaces.graphql.chats import ChatMutations, ChatQueries, ChatSubscriptions
from interfaces.graphql.documents import (
    DocumentMutations,
    DocumentQueries,
    DocumentSubscriptions,
)
from interfaces.graphql.errors import ErrorCodes
from interfaces.graphql.workflows import (
    WorkflowMutations,
    WorkflowQueries,
    WorkflowSubscriptions,
)


@strawberry.type
class Query(WorkflowQueries, DocumentQueries, ChatQueries):
    pass


@strawberry.type
class Mutation(WorkflowMutations, DocumentMutations, ChatMutations):
    pass


@strawberry.type
class Subscription(WorkflowSubscriptions, DocumentSubscriptions, ChatSubscriptions):
    pass


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=[
        ErrorCodes,
        lambda: QueryDepthLimiter(max_depth=12),
        lambda: MaxAliasesLimiter(max_alias_count=50),
        lambda: MaxTokensLimiter(max_token_count=5000),
    ],
)

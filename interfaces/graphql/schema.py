"""The served schema: a superset of the contract."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)

from interfaces.admin_tools import IntrospectionForTools
from interfaces.graphql.account.budget import BudgetMutations, BudgetQueries
from interfaces.graphql.account.resolvers import AccountMutations, AccountQueries
from interfaces.graphql.audit import AuditQueries
from interfaces.graphql.chat.resolvers import ChatMutations, ChatQueries, ChatSubscriptions
from interfaces.graphql.cost import query_limits
from interfaces.graphql.document.resolvers import (
    DocumentMutations,
    DocumentQueries,
    DocumentSubscriptions,
)
from interfaces.graphql.errors import ErrorCodes, Schema
from interfaces.graphql.events import RenderedEvents
from interfaces.graphql.input_guard import InputGuard
from interfaces.graphql.workflow.portable import PortableMutations, PortableQueries
from interfaces.graphql.workflow.resolvers import (
    WorkflowMutations,
    WorkflowQueries,
    WorkflowSubscriptions,
)


@strawberry.type
class Query(
    WorkflowQueries,
    PortableQueries,
    DocumentQueries,
    ChatQueries,
    AccountQueries,
    BudgetQueries,
    AuditQueries,
):
    pass


@strawberry.type
class Mutation(
    WorkflowMutations,
    PortableMutations,
    DocumentMutations,
    ChatMutations,
    AccountMutations,
    BudgetMutations,
):
    pass


@strawberry.type
class Subscription(WorkflowSubscriptions, DocumentSubscriptions, ChatSubscriptions):
    pass


class CachedParse(ParserCache):
    """Parses each distinct document once. A document that does not parse is left to
    strawberry's own parse, which reports the error like any other (with its code)."""

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        with contextlib.suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield


# The limits' rules are made once, so that one document validates to one cached result: a
# chat's subscription and its many sendMessage calls are parsed and validated once each.
LIMITS = [query_limits(max_cost=2000, max_depth=12, max_aliases=50)]

schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    execution_context_class=RenderedEvents,  # chat tokens without an execution each
    extensions=[
        ErrorCodes,
        lambda: MaxTokensLimiter(max_token_count=5000),
        lambda: CachedParse(maxsize=256),
        lambda: AddValidationRules(LIMITS),
        lambda: ValidationCache(maxsize=256),  # after the rules: they are part of its key
        InputGuard,
        IntrospectionForTools,  # after ValidationCache: it adds to the cached result
    ],
)

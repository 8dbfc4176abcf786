"""Who may use the tools that describe the server rather than use it: GraphiQL, schema
introspection and /metrics. A client on this machine (loopback) may; a signed-in user who is
an admin of a workspace may from anywhere (their `Authorization: Bearer` access token); others
only when GENAI_PUBLIC_TOOLS is set. `may_use_tools` is the one place to say so."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator

from graphql import FieldNode, GraphQLError, visit
from graphql.language import DocumentNode, Visitor
from starlette.requests import HTTPConnection
from strawberry.extensions import SchemaExtension

from application.errors import Forbidden

TOOLS_FORBIDDEN = (
    "GraphiQL, introspection and /metrics answer clients on this machine and workspace "
    "admins only; set GENAI_PUBLIC_TOOLS=true to open them to others"
)


def may_use_tools(
    connection: HTTPConnection, public: bool, admin: Callable[[], bool] = lambda: False
) -> bool:
    """`admin`: whether the request's principal administers a workspace (asked last: it
    reads the database)."""
    return public or is_loopback(connection.client.host if connection.client else None) or admin()


def is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class IntrospectionForTools(SchemaExtension):
    """Refuses `__schema` and `__type` (not `__typename`) to a client who may not use the
    tools. It comes after ValidationCache, whose result (per document, whoever asks) it
    adds to, in a new list."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        request = getattr(context.context, "request", None)
        services = getattr(context.context, "services", None)
        if request is not None and services is not None and context.graphql_document:
            public = services.settings.genai_public_tools
            principal = getattr(context.context, "principal", None)
            administers = services.accounts.workspaces.administers
            if _introspects(context.graphql_document) and not may_use_tools(
                request, public, lambda: administers(principal)
            ):
                refusal = GraphQLError(TOOLS_FORBIDDEN, original_error=Forbidden(TOOLS_FORBIDDEN))
                context.pre_execution_errors = [*(context.pre_execution_errors or []), refusal]
        yield


class _Introspection(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def enter_field(self, node: FieldNode, *_: object) -> object:
        if node.name.value in ("__schema", "__type"):
            self.found = True
            return Visitor.BREAK
        return None


# Whether each recent document introspects, by the document itself: a parsed document is
# cached (the schema's CachedParse), so a chat's every sendMessage brings the same one, and
# walking it again (a visitor over each node) was a fifth of a turn's request on the loop.
_KNOWN: dict[int, tuple[DocumentNode, bool]] = {}
KNOWN_DOCUMENTS = 256


def _introspects(document: DocumentNode) -> bool:
    known = _KNOWN.get(id(document))
    if known is not None and known[0] is document:
        return known[1]
    finder = _Introspection()
    visit(document, finder)
    if len(_KNOWN) >= KNOWN_DOCUMENTS:
        _KNOWN.clear()
    _KNOWN[id(document)] = (document, finder.found)
    return finder.found

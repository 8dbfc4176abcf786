"""A chat token rendered without a GraphQL execution is the same `next` payload, byte for
byte, as the execution gives; a selection it cannot render is executed."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest
from graphql import ExecutionResult, parse
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from interfaces.graphql.chat.types import ChatThinking, ChatToken
from interfaces.graphql.events import RenderedEvents
from interfaces.graphql.schema import schema

SESSION = UUID("6a1f3f7e-0d6c-4a53-9d0e-1c2b3a4d5e6f")
MESSAGE = UUID("0b9a8c7d-6e5f-4a3b-8c1d-2e3f4a5b6c7d")
TOKEN = ChatToken(session_id=SESSION, message_id=MESSAGE, delta='a "quoted" naïve ✓ \\ line\n')

FRONTEND = """
subscription ChatEvents($sessionId: UUID!) {
  chatEvents(sessionId: $sessionId) {
    __typename
    ... on ChatMessageAdded { sessionId message { ...ChatMessageFields } }
    ... on ChatThinking { sessionId stage }
    ... on ChatToken { sessionId messageId delta }
    ... on ChatFailed { sessionId questionId code reason: message workflowVersion }
    ... on ChatListening { sessionId version }
  }
}
fragment ChatMessageFields on ChatMessage { id role content }
"""
BENCH = """subscription($s: UUID!) { chatEvents(sessionId: $s) { __typename
  ... on ChatMessageAdded { message { role } } ... on ChatFailed { code error: message } } }"""
ALIASES = """subscription($s: UUID!) { ev: chatEvents(sessionId: $s) {
  kind: __typename ... on ChatToken { text: delta delta m: messageId sessionId __typename }
  ... Tok } }
fragment Tok on ChatToken { delta sessionId }"""
ON_UNION = """subscription($s: UUID!) { chatEvents(sessionId: $s) { ...Any } }
fragment Any on ChatEvent { __typename ... on ChatToken { delta } }"""
SKIPPED = """subscription($s: UUID!, $with: Boolean!) { chatEvents(sessionId: $s) {
  ... on ChatToken { delta @include(if: $with) messageId } } }"""
SKIPPED_FRAGMENT = """subscription($s: UUID!, $with: Boolean!) { chatEvents(sessionId: $s) {
  __typename ... on ChatToken @skip(if: $with) { delta } } }"""


def _payload(
    executor_class: type[StrawberryGraphQLCoreExecutionContext],
    document: str,
    variables: dict[str, Any],
    event: Any,
) -> Any:
    built = executor_class.build(schema._schema, parse(document), raw_variable_values=variables)
    assert not isinstance(built, list), built
    per_event = built.build_per_event_executor(event)
    result = per_event.execute_operation(False)
    assert isinstance(result, ExecutionResult)  # every field here resolves synchronously
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [e.formatted for e in result.errors]
    return per_event, json.dumps({"id": "1", "type": "next", "payload": payload})


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (FRONTEND, {"sessionId": str(SESSION)}),
        (BENCH, {"s": str(SESSION)}),
        (ALIASES, {"s": str(SESSION)}),
        (ON_UNION, {"s": str(SESSION)}),
        (SKIPPED_FRAGMENT, {"s": str(SESSION), "with": True}),
        (SKIPPED_FRAGMENT, {"s": str(SESSION), "with": False}),
    ],
)
def test_a_token_is_rendered_as_the_execution_gives_it(
    document: str, variables: dict[str, Any]
) -> None:
    rendered_by, rendered = _payload(RenderedEvents, document, variables, TOKEN)
    _, executed = _payload(StrawberryGraphQLCoreExecutionContext, document, variables, TOKEN)
    assert rendered_by._rendered is not None  # no execution
    assert rendered == executed


@pytest.mark.parametrize("with_delta", [True, False])
def test_a_field_with_a_directive_is_executed_once_included(with_delta: bool) -> None:
    variables = {"s": str(SESSION), "with": with_delta}
    rendered_by, rendered = _payload(RenderedEvents, SKIPPED, variables, TOKEN)
    _, executed = _payload(StrawberryGraphQLCoreExecutionContext, SKIPPED, variables, TOKEN)
    assert (rendered_by._rendered is None) == with_delta  # left out: nothing to execute
    assert rendered == executed


def test_other_events_and_a_null_in_a_non_null_field_are_executed() -> None:
    variables = {"sessionId": str(SESSION)}
    thinking = ChatThinking(session_id=SESSION, stage="generating")
    rendered_by, rendered = _payload(RenderedEvents, FRONTEND, variables, thinking)
    assert rendered_by._rendered is None
    assert (
        rendered
        == _payload(StrawberryGraphQLCoreExecutionContext, FRONTEND, variables, thinking)[1]
    )

    broken = ChatToken(session_id=SESSION, message_id=None, delta="x")  # type: ignore[arg-type]
    rendered_by, rendered = _payload(RenderedEvents, FRONTEND, variables, broken)
    assert rendered_by._rendered is None
    executed = _payload(StrawberryGraphQLCoreExecutionContext, FRONTEND, variables, broken)[1]
    assert rendered == executed
    assert '"errors"' in rendered

"""A subscription's events rendered without a GraphQL execution where the selection allows.

Each event a subscription yields is executed against the operation's selection set (the
root field, the union's type, each field's resolver, the middleware around it). For an
event whose selected fields are all plain scalar attributes of a type with no resolvers
(a `ChatToken`, sent many times an answer), the fields to render are found once per
subscription and type, through graphql-core's own field collection (fragments, aliases,
`@skip` and `@include` as it applies them), and each event is then the same dictionary
filled from the object's attributes, serialized by the same scalars. Anything else, or a
value the execution would report as an error (null in a non-null field), is executed as
before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from graphql import (
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    OperationType,
)
from graphql.execution.collect_fields import collect_fields, collect_subfields
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

# The event types rendered without an execution.
RENDERED = frozenset({"ChatToken"})


class _Field(NamedTuple):
    key: str  # the response key: the alias, or the field's name
    attribute: str | None  # None: __typename
    serialize: Callable[[Any], Any]
    non_null: bool


class _Plan(NamedTuple):
    root_key: str
    type_name: str
    fields: list[_Field]


class RenderedEvents(StrawberryGraphQLCoreExecutionContext):
    _plans: dict[type, _Plan | None] | None = None
    _rendered: dict[str, Any] | None = None

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        assert isinstance(executor, RenderedEvents)
        executor._rendered = self._render(payload)
        return executor

    def execute_operation(self, serially: bool | None = None) -> Any:
        rendered = self._rendered
        if rendered is None:
            return super().execute_operation(serially)
        return self.finish(self.build_response(rendered))

    def _render(self, payload: Any) -> dict[str, Any] | None:
        kind = type(payload)
        definition = getattr(kind, "__strawberry_definition__", None)
        if definition is None or definition.name not in RENDERED:
            return None
        if self._plans is None:
            self._plans = {}  # on the subscription's executor: each event's is a copy
        plans = self._plans
        if kind not in plans:
            try:
                plans[kind] = self._plan(definition)
            except Exception:
                plans[kind] = None  # the execution reports whatever is wrong
        plan = plans[kind]
        if plan is None:
            return None
        data: dict[str, Any] = {}
        for field in plan.fields:
            if field.attribute is None:
                data[field.key] = plan.type_name
                continue
            value = getattr(payload, field.attribute)
            if value is None:
                if field.non_null:
                    return None
                data[field.key] = None
                continue
            try:
                data[field.key] = field.serialize(value)
            except Exception:
                return None
        return {plan.root_key: data}

    def _plan(self, definition: Any) -> _Plan | None:
        """The fields the operation selects on the event's type, when each is a plain
        attribute of a scalar type without arguments; else None."""
        schema, operation = self.schema, self.operation
        if operation.operation is not OperationType.SUBSCRIPTION:
            return None
        root_type = schema.subscription_type
        if root_type is None:
            return None
        roots = collect_fields(schema, self.fragments, self.variable_values, root_type, operation)
        if roots.new_defer_usages or len(roots.grouped_field_set) != 1:
            return None
        [(root_key, root_details)] = roots.grouped_field_set.items()
        root_field = root_type.fields.get(root_details[0].node.name.value)
        if root_field is None:
            return None
        event_type = schema.get_type(definition.name)
        if not isinstance(event_type, GraphQLObjectType):
            return None
        returned = root_field.type
        if isinstance(returned, GraphQLNonNull):
            returned = returned.of_type
        if returned is not event_type and not (
            isinstance(returned, GraphQLUnionType) and event_type in returned.types
        ):
            return None
        selected = collect_subfields(
            schema, self.fragments, self.variable_values, operation, event_type, root_details
        )
        if selected.new_defer_usages:
            return None
        attributes = {f.python_name for f in definition.fields}
        fields: list[_Field] = []
        for key, details in selected.grouped_field_set.items():
            names = {d.node.name.value for d in details}
            if len(names) != 1:
                return None
            [name] = names
            if any(d.node.arguments or d.node.selection_set or d.node.directives for d in details):
                return None
            if name == "__typename":
                fields.append(_Field(key, None, str, True))
                continue
            graphql_field = event_type.fields.get(name)
            if graphql_field is None or graphql_field.args:
                return None
            strawberry_field = graphql_field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if strawberry_field is None:
                return None
            if strawberry_field.base_resolver is not None or strawberry_field.extensions:
                return None
            if strawberry_field.python_name not in attributes:
                return None
            scalar, non_null = graphql_field.type, False
            if isinstance(scalar, GraphQLNonNull):
                scalar, non_null = scalar.of_type, True
            if not isinstance(scalar, GraphQLScalarType):
                return None
            fields.append(_Field(key, strawberry_field.python_name, scalar.serialize, non_null))
        return _Plan(root_key, event_type.name, fields)

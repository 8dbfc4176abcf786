"""Every argument of every operation goes through one check before its resolver runs
(application.validation): no resolver carries its own copy of the rules of safe input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLNamedType, GraphQLResolveInfo, get_named_type
from strawberry.extensions import SchemaExtension

from application.validation import check_arguments
from domain.errors import InvalidCommand


class InputGuard(SchemaExtension):
    def resolve(
        self,
        _next: Callable[..., Any],
        root: Any,
        info: GraphQLResolveInfo,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if kwargs and info.path.prev is None:  # only the operation's own fields take input
            check_arguments(kwargs)
            _check_uploads(info, kwargs)
        return _next(root, info, *args, **kwargs)


def _check_uploads(info: GraphQLResolveInfo, kwargs: dict[str, Any]) -> None:
    """A multipart part sent without a file name arrives as a plain string, not a file."""
    field = info.parent_type.fields.get(info.field_name)  # None for __type and __schema
    for name, argument in field.args.items() if field else ():
        named: GraphQLNamedType = get_named_type(argument.type)
        value = kwargs.get(name)
        if named.name == "Upload" and value is not None and not hasattr(value, "read"):
            raise InvalidCommand(f"{name}: must be a file, sent with a file name")

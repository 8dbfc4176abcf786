"""The size of a query as it would run, measured in time linear in the document.

A fragment may be spread many times, and each spread holds the whole fragment: `F1 {...F0
...F0}`, `F2 {...F1 ...F1}` … is a few hundred bytes that expand to 2^n fields. Walking every
spread anew (as strawberry's depth and alias limiters do) costs as much as running the query,
so this rule measures each fragment once and multiplies: the expanded field count (cost),
the depth and the aliases of every operation, each against its limit, in one pass over the
document.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)


@dataclass(frozen=True)
class Size:
    cost: int = 0  # fields selected, each spread counting its fragment's fields again
    depth: int = 0  # nested selections, introspection fields aside (as strawberry's limiter)
    aliases: int = 0

    def __add__(self, other: Size) -> Size:
        return Size(
            self.cost + other.cost, max(self.depth, other.depth), self.aliases + other.aliases
        )


class _Measure:
    """Sizes of selection sets, each fragment measured once (a cycle, which validation
    refuses on its own, counts as empty)."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.sizes: dict[str, Size] = {}
        self.open: set[str] = set()

    def of(self, selection_set: SelectionSetNode | None) -> Size:
        total = Size()
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += self._field(selection)
            elif isinstance(selection, InlineFragmentNode):
                total += self.of(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value)
        return total

    def _field(self, field: FieldNode) -> Size:
        inner = self.of(field.selection_set)
        introspection = field.name.value.startswith("__")
        depth = 0 if introspection or not field.selection_set else 1 + inner.depth
        return Size(1 + inner.cost, depth, inner.aliases + (1 if field.alias else 0))

    def _fragment(self, name: str) -> Size:
        known = self.sizes.get(name)
        if known is not None:
            return known
        fragment = self.fragments.get(name)
        if fragment is None or name in self.open:
            return Size()
        self.open.add(name)
        size = self.of(fragment.selection_set)
        self.open.discard(name)
        self.sizes[name] = size
        return size


def query_limits(max_cost: int, max_depth: int, max_aliases: int) -> type[ValidationRule]:
    class QueryLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            definitions = context.document.definitions
            measure = _Measure(
                {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
            )
            aliases = 0
            for operation in definitions:
                if not isinstance(operation, OperationDefinitionNode):
                    continue
                size = measure.of(operation.selection_set)
                name = operation.name.value if operation.name else "anonymous"
                if size.cost > max_cost:
                    context.report_error(
                        GraphQLError(
                            f"'{name}' would select {_rounded(size.cost)} fields once its "
                            f"fragments are spread; at most {max_cost} are allowed",
                            operation,
                        )
                    )
                if size.depth > max_depth:
                    context.report_error(
                        GraphQLError(
                            f"'{name}' exceeds maximum operation depth of {max_depth}", operation
                        )
                    )
                aliases += size.aliases
            if aliases > max_aliases:
                context.report_error(
                    GraphQLError(f"{_rounded(aliases)} aliases found. Allowed: {max_aliases}")
                )

    return QueryLimits


def _rounded(count: int) -> str:
    """A count for a message: 2^39 read as a number a person can take in."""
    return str(count) if count < 10**6 else f"about {count:.1e}"

"""A graph given as JSON (an import, a template) read into nodes and edges, with clear
refusals: what the `importGraph` mutation takes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from application.keys import refuse_moved_keys
from domain.components import COMPONENTS, parse_kind
from domain.errors import InvalidCommand
from domain.graph import Edge, Node, Position
from domain.workflow import merge_config

Seal = Callable[[Mapping[str, Any]], dict[str, Any]]
"""Takes the API keys out of a config (see WorkflowService._seal)."""


def imported_node(data: object, place: int, seal: Seal) -> Node:
    """A node of an imported graph; `id`, `label`, `position` and `config` may be left out."""
    what = f"imported node {place}"
    if not isinstance(data, Mapping):
        raise InvalidCommand(f"{what} must be an object")
    kind = parse_kind(_string(data, "kind", what))
    spec = COMPONENTS[kind]
    config = data.get("config")
    if config is not None and not isinstance(config, Mapping):
        raise InvalidCommand(f"{what}: config must be an object")
    refuse_moved_keys(config or {}, None)
    position = data.get("position")
    if position is None:
        position = {"x": 260.0 * (place - 1), "y": 0.0}  # side by side, in the given order
    if not isinstance(position, Mapping) or not all(
        _is_number(position.get(axis)) for axis in ("x", "y")
    ):
        raise InvalidCommand(f"{what}: position must be {{x, y}} with numbers")
    return Node(
        id=_string(data, "id", what, optional=True) or new_id(kind.value.lower()),
        kind=kind,
        label=_string(data, "label", what, optional=True) or spec.title,
        position=Position(float(position["x"]), float(position["y"])),
        config=merge_config(spec.defaults(), seal(config or {})),
    )


def imported_edge(data: object, place: int) -> Edge:
    """An edge of an imported graph; `id` and the handles may be left out."""
    what = f"imported edge {place}"
    if not isinstance(data, Mapping):
        raise InvalidCommand(f"{what} must be an object")

    def handle(snake: str, camel: str) -> str:
        value = data.get(snake) if data.get(snake) is not None else data.get(camel)
        if value is not None and not isinstance(value, str):
            raise InvalidCommand(f"{what}: {camel} must be a string")
        return value or ""

    return Edge(
        _string(data, "id", what, optional=True) or new_id("edge"),
        _string(data, "source", what),
        _string(data, "target", what),
        handle("source_handle", "sourceHandle"),
        handle("target_handle", "targetHandle"),
    )


def _string(data: Mapping[str, Any], key: str, what: str, *, optional: bool = False) -> str:
    value = data.get(key)
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise InvalidCommand(
            f"{what}: {key} must be a string" + ("" if optional else ", and given")
        )
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"

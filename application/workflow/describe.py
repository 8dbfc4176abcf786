"""Changes to a workflow in people's words: "Passages per question 4 → 3", "Renamed “A” →
“B”", "Connected User Query → LLM Engine". Setting names and choices are the component
specs' own titles; a secret is only ever said to have changed, never shown or hinted at.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.changes import Delta, EdgeChange, NodeChange
from domain.components import CHOICE_NAMES, COMPONENTS, NodeKind, is_cleared_key
from domain.graph import Edge, Node, Position
from domain.undo import Step
from domain.workflow import PublishedVersion

SHORT = 40  # longer texts (a prompt, a description) are said to have changed, not quoted
CALLED_OUT = 3  # changes named in a one-line summary before "and N more"


@dataclass(frozen=True)
class FieldChange:
    """One thing a change changed. `before`/`after` are in words (None: not there, or a
    secret); `text` says the whole of it."""

    field: str  # what changed, e.g. config.topK, label, position, node, edge, name
    label: str  # its name for people, e.g. Passages per question
    before: str | None
    after: str | None
    text: str
    node_id: str | None = None


def humanize(name: str) -> str:
    """NodesConnected → Nodes connected; chunkSize → Chunk size."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).lower()
    return words[:1].upper() + words[1:]


def quoted(text: str) -> str:
    return f"“{text}”"


def node_changes(change: NodeChange, *, every_field: bool = False) -> list[FieldChange]:
    """A node's changed fields; with every_field, all the settings of a node added or
    removed (a side-by-side comparison shows them)."""
    before, after = change.before, change.after
    node = after or before
    assert node is not None
    if before is not None and after is not None and before.kind == after.kind:
        lines = []
        if before.label != after.label:
            lines.append(
                FieldChange(
                    "label",
                    "Name",
                    before.label,
                    after.label,
                    f"Renamed node {quoted(before.label)} → {quoted(after.label)}",
                    node.id,
                )
            )
        if before.position != after.position:
            old, new = _position(before.position), _position(after.position)
            lines.append(
                FieldChange("position", "Position", old, new, f"Moved {old} → {new}", node.id)
            )
        lines += [_setting(node, key, before.config, after.config) for key in change.changed_keys()]
        return lines
    verb = "Added" if before is None else "Removed" if after is None else "Replaced"
    head = FieldChange(
        "node",
        _kind_title(node.kind),
        None if before is None else before.label,
        None if after is None else after.label,
        f"{verb} {node.label}",
        node.id,
    )
    if not every_field:
        return [head]
    old_config = before.config if before else {}
    new_config = after.config if after else {}
    listed = COMPONENTS[node.kind].config_schema["properties"]
    keys = [
        k
        for k in dict.fromkeys([*listed, *old_config, *new_config])
        if k in old_config or k in new_config
    ]
    return [head] + [_setting(node, key, old_config, new_config) for key in keys]


def edge_change(change: EdgeChange, names: Mapping[str, str]) -> FieldChange:
    edge = change.after or change.before
    assert edge is not None
    link = connection(edge, names)
    if change.before is None:
        text = f"Connected {link}"
    elif change.after is None:
        text = f"Disconnected {link}"
    else:
        text = f"Reconnected {connection(change.before, names)} → {link}"
    before = None if change.before is None else connection(change.before, names)
    after = None if change.after is None else link
    return FieldChange("edge", "Connection", before, after, text)


def connection(edge: Edge, names: Mapping[str, str]) -> str:
    return f"{_name(edge.source, names)} → {_name(edge.target, names)}"


def delta_changes(delta: Delta, names: Mapping[str, str]) -> list[FieldChange]:
    """Every line of a delta. When it touches several nodes, each node's lines say whose."""
    several = len(delta.nodes) > 1 or (bool(delta.nodes) and bool(delta.edges))
    lines = [*_text_changes(delta)]
    for change in delta.nodes:
        for line in node_changes(change):
            if several and line.field not in ("node", "label"):
                label = (change.after or change.before).label  # type: ignore[union-attr]
                line = _prefixed(line, label)
            lines.append(line)
    removed = {c.id for c in delta.nodes if c.after is None}
    # an edge that went with its node is said by the node's line
    lines += [
        edge_change(e, names) for e in delta.edges if e.after is not None or not _ends(e) & removed
    ]
    return lines


def summary(
    kind: str,
    delta: Delta,
    names: Mapping[str, str],
    about: Mapping[str, Any] | None = None,
) -> str:
    """One line for one change, from its event type and what it did."""
    about = about or {}
    node = _only_node(delta)
    match kind:
        case "WorkflowCreated":
            return f"Created {quoted(str(about.get('name', '')))}"
        case "WorkflowRenamed" if delta.name:
            return f"Renamed {quoted(delta.name[0])} → {quoted(delta.name[1])}"
        case "WorkflowDescribed" if delta.description:
            return "Described the stack"
        case "NodeAdded" if node:
            return f"Added {node.label}"
        case "NodeMoved" if node:
            return f"Moved {node.label}"
        case "NodeRelabelled" if delta.nodes:
            return node_changes(delta.nodes[0])[0].text
        case "NodeConfigured" if node:
            return f"{node.label}: {_called_out(delta_changes(delta, names))}"
        case "NodeRemoved" if node:
            links = len(delta.edges)
            extra = f" and its {links} connection{'s' if links != 1 else ''}" if links else ""
            return f"Removed {node.label}{extra}"
        case "NodesConnected" | "NodesDisconnected" if delta.edges:
            return edge_change(delta.edges[0], names).text
        case "GraphImported":
            return _with_tally("Imported a graph", delta)
        case "WorkflowRolledBack":
            return _with_tally(f"Rolled back to {about.get('target', 'an earlier change')}", delta)
        case "WorkflowPublished":
            note = str(about.get("note") or "")
            return f"Published v{about.get('number')}" + (f": {quoted(note)}" if note else "")
        case "WorkflowDeleted":
            return "Deleted the stack"
        case "ChangeUndone" | "ChangeRedone":
            verb = "Undid" if kind == "ChangeUndone" else "Redid"
            line = f"{verb}: {about.get('undone', 'a change')}"
            return line if not delta.empty else f"{line} (nothing left to change)"
    if delta.empty and kind in _EDITS:
        return _EDITS[kind].format(node=about.get("node") or "a node") + " (no change)"
    return humanize(kind)


def step_summary(
    step: Step, names: Mapping[str, str], published: Sequence[PublishedVersion]
) -> str:
    """What undoing (or redoing) a step takes back, as its history entry said it."""
    about = {}
    if "to_version" in step.about:
        about["target"] = version_label(int(step.about["to_version"]), published)
    return summary(step.type, step.delta, {**names, **names_in(step.delta)}, about)


def in_force(version: int, published: Sequence[PublishedVersion]) -> int | None:
    """The number of the published version in force at a change (None: not built yet)."""
    numbers = [p.number for p in published if p.workflow_version <= version]
    return numbers[-1] if numbers else None


def version_label(version: int, published: Sequence[PublishedVersion]) -> str:
    """A version as people number it: the published version in force, then the change
    (v2 · change 17; Draft · change 4 before the first Build), as chats name theirs."""
    number = in_force(version, published)
    return f"{'Draft' if number is None else f'v{number}'} · change {version}"


def names_of(nodes: Mapping[str, Node]) -> dict[str, str]:
    return {i: n.label for i, n in nodes.items()}


_EDITS = {  # an edit that changed nothing (e.g. a node dropped where it was)
    "WorkflowRenamed": "Renamed the stack",
    "WorkflowDescribed": "Saved the description",
    "NodeMoved": "Moved {node}",
    "NodeRelabelled": "Renamed {node}",
    "NodeConfigured": "Saved the settings of {node}",
}


def names_in(delta: Delta) -> dict[str, str]:
    return {c.id: (c.after or c.before).label for c in delta.nodes}  # type: ignore[union-attr]


def _only_node(delta: Delta) -> Node | None:
    if len(delta.nodes) != 1:
        return None
    change = delta.nodes[0]
    return change.after or change.before


def _ends(change: EdgeChange) -> set[str]:
    edge = change.after or change.before
    assert edge is not None
    return {edge.source, edge.target}


def _called_out(lines: list[FieldChange]) -> str:
    if not lines:
        return "no change"
    texts = [line.text for line in lines[:CALLED_OUT]]
    more = len(lines) - CALLED_OUT
    return "; ".join(texts) + (f"; and {more} more" if more > 0 else "")


def _with_tally(head: str, delta: Delta) -> str:
    parts = []
    counts = {
        "node": _count(delta.nodes),
        "connection": _count(delta.edges),
    }
    for noun, (added, removed, changed) in counts.items():
        words = [
            f"{n} {noun}{'s' if n != 1 else ''} {verb}"
            for n, verb in ((added, "added"), (removed, "removed"), (changed, "changed"))
            if n
        ]
        parts += words
    if delta.name:
        parts.append(f"renamed {quoted(delta.name[1])}")
    if delta.description:
        parts.append("description changed")
    return f"{head}: {', '.join(parts)}" if parts else f"{head} (no change)"


def _count(changes: tuple[NodeChange, ...] | tuple[EdgeChange, ...]) -> tuple[int, int, int]:
    added = sum(1 for c in changes if c.before is None)
    removed = sum(1 for c in changes if c.after is None)
    return added, removed, len(changes) - added - removed


def _text_changes(delta: Delta) -> list[FieldChange]:
    lines = []
    if delta.name:
        old, new = delta.name
        lines.append(
            FieldChange("name", "Name", old, new, f"Renamed {quoted(old)} → {quoted(new)}")
        )
    if delta.description:
        old, new = delta.description
        lines.append(
            FieldChange(
                "description",
                "Description",
                old or None,
                new or None,
                _text_line("Description", old, new),
            )
        )
    return lines


def _text_line(label: str, old: str, new: str) -> str:
    if not old:
        return f"{label} set" if len(new) > SHORT else f"{label} set to {quoted(new)}"
    if not new:
        return f"{label} cleared"
    if len(old) > SHORT or len(new) > SHORT:
        return f"{label} changed"
    return f"{label} {quoted(old)} → {quoted(new)}"


def _setting(node: Node, key: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> FieldChange:
    prop = COMPONENTS[node.kind].config_schema["properties"].get(key, {})
    label = str(prop.get("title") or humanize(key))
    field = f"config.{key}"
    before, after = old.get(key), new.get(key)
    if prop.get("x-secret"):
        if is_cleared_key(after):
            text = f"{label} cleared: enter it again for the new address"
        elif before is None:
            text = f"{label} added"
        elif after is None:
            text = f"{label} removed"
        else:
            text = f"{label} changed"
        return FieldChange(field, label, None, None, text, node.id)
    was, now = _words(prop, before), _words(prop, after)
    if was is None and now is None:
        text = f"{label} unchanged"
    elif was is None:
        text = f"{label} set" if len(now or "") > SHORT else f"{label} set to {now}"
    elif now is None:
        text = f"{label} cleared" if len(was) > SHORT else f"{label} cleared (was {was})"
    elif len(was) > SHORT or len(now) > SHORT:
        text = f"{label} changed"
    else:
        text = f"{label} {was} → {now}"
    return FieldChange(field, label, was, now, text, node.id)


def _words(prop: Mapping[str, Any], value: Any) -> str | None:
    if value is None:
        return None
    if "enum" in prop and value in CHOICE_NAMES:  # a choice's own name
        return CHOICE_NAMES[value]
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return value
    return str(value)


def _position(p: Position) -> str:
    return f"({round(p.x)}, {round(p.y)})"


def _kind_title(kind: NodeKind) -> str:
    return COMPONENTS[kind].title


def _name(node_id: str, names: Mapping[str, str]) -> str:
    return names.get(node_id, "a removed node")


def _prefixed(line: FieldChange, label: str) -> FieldChange:
    return FieldChange(
        line.field, line.label, line.before, line.after, f"{label}: {line.text}", line.node_id
    )

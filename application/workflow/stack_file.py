"""A stack as a file that moves between servers: its graph, its nodes' settings, its name and
description, the list of its documents; never a secret.

    {"format": "genai-stack.stack", "formatVersion": 1, "exportedAt": "…",
     "digest": "sha256:…", "stack": {name, description, nodes, edges, documents, keysToEnter}}

`digest` is the SHA-256 of the canonical JSON of `stack` (keys sorted, no spaces, UTF-8): a
file changed after export is refused on import. A zip holds `stack.json` and each document's
bytes as `documents/<sha256>.pdf`, each checked against the digest the file lists for it.
A node's API key is left out: `keysToEnter` names the nodes whose key must be entered again
on the server the stack moves to.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, BinaryIO

from application.validation import MAX_EDGES, MAX_NODES, check_arguments, check_text
from domain.components import SECRET_FIELDS, is_cleared_key, is_secret_reference
from domain.errors import InvalidCommand
from domain.graph import Edge, Node

FORMAT = "genai-stack.stack"
FORMAT_VERSION = 1
STACK_ENTRY = "stack.json"
DOCUMENTS_DIR = "documents/"
MAX_STACK_FILE = 5 * 1024 * 1024  # the JSON of one stack: 500 nodes with long prompts fit
MAX_DOCUMENTS = 200
_SHA256_CHARS = frozenset("0123456789abcdef")


class InvalidStackFile(InvalidCommand):
    """A file that is not a stack this server can import, with the reason in words."""


@dataclass(frozen=True)
class ExportedDocument:
    filename: str
    node_id: str
    sha256: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "nodeId": self.node_id,
            "sha256": self.sha256,
            "size": self.size,
        }


@dataclass(frozen=True)
class KeyToEnter:
    """A node whose own API key stayed behind: it must be entered again."""

    node_id: str
    label: str
    setting: str  # apiKey | webSearchApiKey

    def to_dict(self) -> dict[str, Any]:
        return {"nodeId": self.node_id, "label": self.label, "setting": self.setting}


@dataclass(frozen=True)
class StackFile:
    """A stack file as read and checked: what an import creates."""

    name: str
    description: str
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    documents: tuple[ExportedDocument, ...]
    keys_to_enter: tuple[KeyToEnter, ...]


# ---------------------------------------------------------------- writing


def exported_node(node: Node) -> tuple[dict[str, Any], list[KeyToEnter]]:
    """A node as the file holds it, its keys left out, and the keys it leaves behind."""
    config = {}
    keys = []
    for name, value in node.config.items():
        if name in SECRET_FIELDS:
            if is_secret_reference(value) or is_cleared_key(value):
                keys.append(KeyToEnter(node.id, node.label, name))
            continue
        config[name] = value
    data = {
        "id": node.id,
        "kind": node.kind.value,
        "label": node.label,
        "position": {"x": node.position.x, "y": node.position.y},
        "config": config,
    }
    return data, keys


def exported_edge(edge: Edge) -> dict[str, Any]:
    return {
        "id": edge.id,
        "source": edge.source,
        "target": edge.target,
        "sourceHandle": edge.source_handle,
        "targetHandle": edge.target_handle,
    }


def stack_payload(
    name: str,
    description: str,
    nodes: Iterable[Node],
    edges: Iterable[Edge],
    documents: Iterable[ExportedDocument],
) -> dict[str, Any]:
    exported, keys = [], []
    for node in nodes:
        data, left = exported_node(node)
        exported.append(data)
        keys.extend(left)
    return {
        "name": name,
        "description": description,
        "nodes": exported,
        "edges": [exported_edge(e) for e in edges],
        "documents": [d.to_dict() for d in documents],
        "keysToEnter": [k.to_dict() for k in keys],
    }


def canonical(value: Any) -> bytes:
    """The one byte string of a JSON value that the digest covers."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def digest_of(payload: Mapping[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(canonical(payload)).hexdigest()


def stack_file_bytes(payload: Mapping[str, Any], exported_at: datetime) -> bytes:
    """The JSON file of a stack, readable by a person (indented), digest included."""
    document = {
        "format": FORMAT,
        "formatVersion": FORMAT_VERSION,
        "exportedAt": exported_at.isoformat(),
        "digest": digest_of(payload),
        "stack": payload,
    }
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False).encode("utf-8")


def write_zip(
    target: IO[bytes],
    stack_json: bytes,
    documents: Sequence[ExportedDocument],
    open_blob: Callable[[str], BinaryIO],
) -> None:
    """`stack.json` and each document's bytes, streamed from the blob store into `target`."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(STACK_ENTRY, stack_json)
        for sha in sorted({d.sha256 for d in documents}):
            with open_blob(sha) as source, archive.open(_document_entry(sha), "w") as sink:
                while chunk := source.read(64 * 1024):
                    sink.write(chunk)


def _document_entry(sha256: str) -> str:
    return f"{DOCUMENTS_DIR}{sha256}.pdf"


# ---------------------------------------------------------------- reading


def read_stack_file(data: bytes) -> StackFile:
    """The stack a JSON file holds; InvalidStackFile saying why for a file that is malformed,
    of another format, of a newer format version, or changed since it was exported."""
    if len(data) > MAX_STACK_FILE:
        raise InvalidStackFile(f"a stack file is at most {MAX_STACK_FILE // (1024 * 1024)} MB")
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise InvalidStackFile(f"this is not a stack file: not valid JSON ({error})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InvalidStackFile(
            f"this is not a stack file: its format is not {FORMAT!r} "
            "(export one from a stack's menu, as JSON or as a zip with its documents)"
        )
    version = document.get("formatVersion")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InvalidStackFile("this stack file has no valid formatVersion")
    if version > FORMAT_VERSION:
        raise InvalidStackFile(
            f"this stack file has format version {version}, made by a newer GenAI Stack; "
            f"this server reads versions up to {FORMAT_VERSION}: upgrade it to import the file"
        )
    payload = document.get("stack")
    if not isinstance(payload, dict):
        raise InvalidStackFile("this stack file holds no stack")
    if document.get("digest") != digest_of(payload):
        raise InvalidStackFile(
            "this stack file was changed after it was exported (its digest does not match "
            "its content): export it again"
        )
    return _stack(payload)


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number")


def _stack(payload: dict[str, Any]) -> StackFile:
    nodes, edges = payload.get("nodes"), payload.get("edges")
    if not isinstance(nodes, list) or not isinstance(edges, list):
        raise InvalidStackFile("the stack's nodes and edges must be lists")
    if len(nodes) > MAX_NODES or len(edges) > MAX_EDGES:
        raise InvalidStackFile(f"a stack has at most {MAX_NODES} nodes and {MAX_EDGES} edges")
    check_arguments({"nodes": nodes, "edges": edges})
    name, description = payload.get("name"), payload.get("description", "")
    if not isinstance(name, str) or not isinstance(description, str):
        raise InvalidStackFile("the stack's name and description must be text")
    check_arguments({"name": name, "description": description})
    for node in nodes:
        config = node.get("config") if isinstance(node, dict) else None
        if isinstance(config, dict) and any(config.get(s) is not None for s in SECRET_FIELDS):
            raise InvalidStackFile("a stack file never holds an API key: remove it and try again")
    return StackFile(
        name=name,
        description=description,
        nodes=nodes,
        edges=edges,
        documents=_documents(payload.get("documents", [])),
        keys_to_enter=_keys(payload.get("keysToEnter", [])),
    )


def _documents(value: object) -> tuple[ExportedDocument, ...]:
    if not isinstance(value, list) or len(value) > MAX_DOCUMENTS:
        raise InvalidStackFile(f"the stack's documents must be a list of at most {MAX_DOCUMENTS}")
    documents = []
    for place, item in enumerate(value, start=1):
        what = f"document {place}"
        if not isinstance(item, dict):
            raise InvalidStackFile(f"{what} must be an object")
        filename, node_id = item.get("filename"), item.get("nodeId")
        sha, size = item.get("sha256"), item.get("size")
        if not (isinstance(filename, str) and isinstance(node_id, str)):
            raise InvalidStackFile(f"{what}: filename and nodeId must be text")
        check_text(filename, f"{what}: filename", 255)
        if not (isinstance(sha, str) and len(sha) == 64 and set(sha) <= _SHA256_CHARS):
            raise InvalidStackFile(f"{what}: sha256 must be 64 hexadecimal digits")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidStackFile(f"{what}: size must be a whole number of bytes")
        documents.append(ExportedDocument(filename, node_id, sha, size))
    return tuple(documents)


def _keys(value: object) -> tuple[KeyToEnter, ...]:
    if not isinstance(value, list) or len(value) > MAX_NODES * len(SECRET_FIELDS):
        raise InvalidStackFile("the stack's keysToEnter must be a list")
    keys = []
    for item in value:
        if not isinstance(item, dict) or item.get("setting") not in SECRET_FIELDS:
            raise InvalidStackFile("each of keysToEnter names a node and a key setting")
        node_id, label = item.get("nodeId"), item.get("label", "")
        if not isinstance(node_id, str) or not isinstance(label, str):
            raise InvalidStackFile("each of keysToEnter names a node and a key setting")
        keys.append(KeyToEnter(node_id, label, item["setting"]))
    return tuple(keys)


@dataclass(frozen=True)
class StackArchive:
    """A zip as read: the stack, and where each of its documents' bytes are."""

    stack: StackFile
    archive: zipfile.ZipFile

    def open_document(self, sha256: str) -> IO[bytes]:
        return self.archive.open(_document_entry(sha256))


def read_archive(file: IO[bytes], max_document_bytes: int) -> StackArchive:
    """A zip made by `write_zip`: its stack file, checked, and each listed document present,
    within `max_document_bytes`, with the bytes its digest names (read through once here);
    anything else in the zip is refused."""
    try:
        archive = zipfile.ZipFile(file)
        names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise InvalidStackFile(f"this is not a stack archive: not a valid zip ({error})") from None
    if STACK_ENTRY not in names:
        raise InvalidStackFile(f"this zip holds no {STACK_ENTRY}: it is not a stack archive")
    info = archive.getinfo(STACK_ENTRY)
    if info.file_size > MAX_STACK_FILE:
        raise InvalidStackFile(f"a stack file is at most {MAX_STACK_FILE // (1024 * 1024)} MB")
    with archive.open(info) as entry:
        stack = read_stack_file(_read_at_most(entry, MAX_STACK_FILE, STACK_ENTRY))
    listed = {d.sha256 for d in stack.documents}
    expected = {STACK_ENTRY, *(_document_entry(s) for s in listed)}
    extra = sorted(set(names) - expected)
    if extra:
        raise InvalidStackFile(f"this zip holds files its stack does not list: {extra[0]}")
    for sha in sorted(listed):
        entry_name = _document_entry(sha)
        if entry_name not in names:
            raise InvalidStackFile(f"this zip lacks the document {entry_name} its stack lists")
        digest = hashlib.sha256()
        size = 0
        try:
            with archive.open(entry_name) as entry:
                while chunk := entry.read(64 * 1024):
                    size += len(chunk)
                    if size > max_document_bytes:
                        raise InvalidStackFile(
                            f"{entry_name} is larger than an upload may be "
                            f"({max_document_bytes // (1024 * 1024)} MB)"
                        )
                    digest.update(chunk)
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise InvalidStackFile(f"{entry_name} cannot be read: {error}") from None
        if digest.hexdigest() != sha:
            raise InvalidStackFile(
                f"{entry_name} does not hold the bytes its stack lists (changed since the "
                "export): export it again"
            )
    return StackArchive(stack, archive)


def _read_at_most(entry: IO[bytes], limit: int, name: str) -> bytes:
    try:
        data = entry.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise InvalidStackFile(f"{name} cannot be read: {error}") from None
    if len(data) > limit:
        raise InvalidStackFile(f"{name} is larger than {limit // (1024 * 1024)} MB")
    return data


def is_zip(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06")

"""Moving a stack between servers: export it as a stack file (or a zip with its PDFs), import
such a file as a new stack, and a stack's whole history as JSON Lines for an auditor.

The format is `application.workflow.stack_file`'s. An import checks everything it can before
it stores anything (the file, its digest, the graph, each document's bytes), then creates the
stack with its graph in one save, and uploads the documents through the normal upload path,
so they are indexed like any other.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any
from uuid import UUID

from application.document import commands as dc
from application.document.handlers import SNIFF_BYTES, DocumentService
from application.document.views import DocumentView
from application.eventlog.log import event_payload
from application.ports import BlobStore, Sniffer
from application.workflow import commands as c
from application.workflow.handlers import WorkflowService
from application.workflow.history import HistoryService
from application.workflow.stack_file import (
    ExportedDocument,
    InvalidStackFile,
    KeyToEnter,
    StackArchive,
    StackFile,
    is_zip,
    read_archive,
    read_stack_file,
    stack_file_bytes,
    stack_payload,
    write_zip,
)
from application.workflow.views import HistoryEntry, WorkflowView
from domain.components import SECRET_FIELDS, NodeKind, is_secret_reference
from domain.document import DocumentStatus
from domain.errors import NotFound

REDACTED = "[redacted]"
# where events hold a key's reference: a node's key settings, and index settings' `api_key_ref`
_KEY_HOLDERS = frozenset({*SECRET_FIELDS, "api_key_ref", "key_ref"})
HISTORY_FORMAT = "genai-stack.history"


@dataclass(frozen=True)
class ImportedStack:
    workflow: WorkflowView
    documents: tuple[DocumentView, ...]
    keys_to_enter: tuple[KeyToEnter, ...]
    documents_left_out: int  # listed by a JSON file that carries no bytes


class StackTransfer:
    def __init__(
        self,
        workflows: WorkflowService,
        documents: DocumentService,
        history: HistoryService,
        blobs: BlobStore,
        sniff: Sniffer,
        max_document_bytes: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.workflows, self.documents, self.history = workflows, documents, history
        self.blobs, self.sniff, self.clock = blobs, sniff, clock
        self.max_document_bytes = max_document_bytes

    # ---------------------------------------------------------------- export

    def export_json(self, workflow_id: UUID) -> bytes:
        """The stack file: its graph, settings, name and description, documents listed."""
        view, documents = self._stack(workflow_id)
        return self._file(view, documents)

    def export_zip(self, workflow_id: UUID, target: IO[bytes]) -> None:
        """The stack file and its documents' bytes, as one zip written to `target`."""
        view, documents = self._stack(workflow_id)
        write_zip(target, self._file(view, documents), documents, self.blobs.open)

    def history_lines(self, workflow_id: UUID) -> Iterator[str]:
        """Every event of the stack and of its documents, oldest first, one JSON object a
        line, with each key's reference and hint replaced by "[redacted]"."""
        for entry in self.history.history(workflow_id, with_documents=True):
            yield json.dumps(_history_record(entry), ensure_ascii=False, sort_keys=True) + "\n"

    def _stack(self, workflow_id: UUID) -> tuple[WorkflowView, list[ExportedDocument]]:
        view = self.workflows.get(workflow_id)
        if view is None:
            raise NotFound(f"there is no workflow {workflow_id}")
        listed = self.documents.list_for_workflows([workflow_id]).get(workflow_id, [])
        documents = [
            ExportedDocument(d.filename, d.node_id, d.sha256, d.size_bytes)
            for d in sorted(listed, key=lambda d: (d.created_at, d.filename))
            if d.status != DocumentStatus.REMOVED and self.blobs.exists(d.sha256)
        ]
        return view, documents

    def _file(self, view: WorkflowView, documents: list[ExportedDocument]) -> bytes:
        payload = stack_payload(view.name, view.description, view.nodes, view.edges, documents)
        return stack_file_bytes(payload, self.clock())

    # ---------------------------------------------------------------- import

    def import_stack(self, cmd: c.ImportStack) -> ImportedStack:
        """A new stack from a stack file or archive; nothing is stored when anything in the
        file is refused."""
        with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
            head = cmd.stream.read(4)
            spool.write(head)
            while chunk := cmd.stream.read(64 * 1024):
                spool.write(chunk)
            spool.seek(0)
            if is_zip(head):
                archive = read_archive(spool, self.max_document_bytes)
                try:
                    return self._create(cmd, archive.stack, archive)
                finally:
                    archive.archive.close()
            return self._create(cmd, read_stack_file(spool.read()), None)

    def _create(
        self, cmd: c.ImportStack, stack: StackFile, archive: StackArchive | None
    ) -> ImportedStack:
        kinds = {n.get("id"): n.get("kind") for n in stack.nodes if isinstance(n, dict)}
        if archive is not None:
            self._check_documents(stack, archive, kinds)
        name = cmd.name if cmd.name and cmd.name.strip() else stack.name
        view = self.workflows.create_with_graph(
            c.CreateWithGraph(
                actor=cmd.actor,
                name=name,
                description=stack.description,
                workspace_id=cmd.workspace_id,
                nodes=stack.nodes,
                edges=stack.edges,
            )
        )
        uploaded = []
        if archive is not None:
            for document in stack.documents:
                with archive.open_document(document.sha256) as stream:
                    uploaded.append(
                        self.documents.upload(
                            dc.UploadDocument(
                                actor=cmd.actor,
                                workflow_id=view.id,
                                node_id=document.node_id,
                                filename=document.filename,
                                stream=stream,  # type: ignore[arg-type]
                            )
                        )
                    )
        return ImportedStack(
            workflow=view,
            documents=tuple(uploaded),
            keys_to_enter=stack.keys_to_enter,
            documents_left_out=0 if archive is not None else len(stack.documents),
        )

    def _check_documents(
        self, stack: StackFile, archive: StackArchive, kinds: dict[Any, Any]
    ) -> None:
        """Each document goes to a Knowledge Base of the stack, and is a PDF."""
        for document in stack.documents:
            if kinds.get(document.node_id) != NodeKind.KNOWLEDGE_BASE.value:
                raise InvalidStackFile(
                    f"{document.filename} belongs to {document.node_id!r}, which is not a "
                    "Knowledge Base of the stack"
                )
            with archive.open_document(document.sha256) as stream:
                if not self.sniff(stream.read(SNIFF_BYTES)):
                    raise InvalidStackFile(f"{document.filename} is not a PDF")


def _history_record(entry: HistoryEntry) -> dict[str, Any]:
    return {
        "format": HISTORY_FORMAT,
        "stackId": str(entry.workflow_id),
        "version": entry.version,
        "documentId": None if entry.document_id is None else str(entry.document_id),
        "documentVersion": entry.document_version,
        "type": entry.type,
        "timestamp": entry.timestamp.isoformat(),
        "actor": entry.actor,
        "summary": entry.summary,
        "data": redacted(event_payload(entry.event)),
    }


def redacted(value: Any) -> Any:
    """`value` with every key's setting and every secret reference replaced by "[redacted]"."""
    if isinstance(value, dict):
        if is_secret_reference(value):
            return REDACTED
        return {
            k: (REDACTED if k in _KEY_HOLDERS and v is not None else redacted(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redacted(v) for v in value]
    return value

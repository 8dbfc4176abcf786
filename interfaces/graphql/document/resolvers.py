"""Document queries, mutations (upload over the GraphQL multipart spec) and documentEvents."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from uuid import UUID

import strawberry
from strawberry.file_uploads import Upload

from application.account.access import Resource
from application.document import commands as c
from application.document.handlers import DocumentService
from application.document.views import DocumentView, topic
from domain.policy import Action
from interfaces.graphql.authorize import needs
from interfaces.graphql.context import Info
from interfaces.graphql.document.types import Document
from interfaces.graphql.resolve import execute, read
from interfaces.limits import Kind


def _service(info: Info) -> DocumentService:
    return info.context.services.documents


@strawberry.type
class DocumentQueries:
    @strawberry.field(extensions=needs(Action.OPEN, Resource.DOCUMENT, "id", unseen_is_null=True))
    async def document(self, info: Info, id: UUID) -> Document | None:
        view = await read(_service(info).get, id)
        return None if view is None else Document.of(view)


@strawberry.type
class DocumentMutations:
    @strawberry.mutation(
        # counted as an upload by the upload route, before its body was read
        extensions=needs(Action.UPLOAD, Resource.WORKFLOW, "workflow_id", limit=Kind.UPLOAD),
        description="Uploads a PDF to a Knowledge Base (nodeId; without it, the workflow's "
        "only one). The same file again gives back the document it already is.",
    )
    async def upload_document(
        self, info: Info, workflow_id: UUID, file: Upload, node_id: str | None = None
    ) -> Document:
        view = await execute(
            info,
            _service(info).upload,
            c.UploadDocument,
            workflow_id=workflow_id,
            node_id=node_id,
            filename=file.filename,
            stream=file.file,
        )
        return Document.of(view)

    @strawberry.mutation(
        extensions=needs(Action.UPLOAD, Resource.DOCUMENT, "id"),
        description="Removes the document and, soon after, its vectors.",
    )
    async def remove_document(self, info: Info, id: UUID) -> bool:
        await execute(info, _service(info).remove, c.RemoveDocument, document_id=id)
        return True

    @strawberry.mutation(
        extensions=needs(Action.UPLOAD, Resource.DOCUMENT, "id"),
        description="Indexes the document again with its Knowledge Base's current settings "
        "(e.g. after a failure that is mended).",
    )
    async def reindex_document(self, info: Info, id: UUID) -> Document:
        view = await execute(info, _service(info).reindex, c.ReindexDocument, document_id=id)
        return Document.of(view)


@strawberry.type
class DocumentSubscriptions:
    @strawberry.subscription(
        extensions=needs(Action.OPEN, Resource.WORKFLOW, "workflow_id"),
        description="Each status change of the workflow's documents, and progress (pages "
        "extracted, chunks embedded) while one is processed.",
    )
    async def document_events(
        self, info: Info, workflow_id: UUID
    ) -> AsyncGenerator[Document, None]:
        async with info.context.services.live(topic(workflow_id)) as messages:
            async for message in messages:
                yield Document.of(DocumentView.from_message(message))

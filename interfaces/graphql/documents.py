"""Document queries, mutations (upload over the GraphQL multipart spec) and documentEvents."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from uuid import UUID

import strawberry
from strawberry.file_uploads import Upload

from application.document_views import DocumentView, topic
from application.documents import DocumentService
from interfaces.graphql.context import Info
from interfaces.graphql.types import Document


def _service(info: Info) -> DocumentService:
    service = info.context.container.documents
    assert service is not None, "the container was built without documents"
    return service


@strawberry.type
class DocumentQueries:
    @strawberry.field
    async def document(self, info: Info, id: UUID) -> Document | None:
        view = await info.context.run(_service(info).get, id)
        return None if view is None else Document.of(view)


@strawberry.type
class DocumentMutations:
    @strawberry.mutation(
        description="Uploads a PDF to a Knowledge Base (nodeId; without it, the workflow's "
        "only one). The same file again gives back the document it already is."
    )
    async def upload_document(
        self, info: Info, workflow_id: UUID, file: Upload, node_id: str | None = None
    ) -> Document:
        ctx = info.context
        view = await ctx.run(
            _service(info).upload, workflow_id, node_id, file.filename, file.file, ctx.actor
        )
        return Document.of(view)

    @strawberry.mutation(description="Removes the document and, soon after, its vectors.")
    async def remove_document(self, info: Info, id: UUID) -> bool:
        await info.context.run(_service(info).remove, id, info.context.actor)
        return True

    @strawberry.mutation(
        description="Indexes the document again with its Knowledge Base's current settings "
        "(e.g. after a failure that is mended)."
    )
    async def reindex_document(self, info: Info, id: UUID) -> Document:
        ctx = info.context
        return Document.of(await ctx.run(_service(info).reindex, id, ctx.actor, "asked for"))


@strawberry.type
class DocumentSubscriptions:
    @strawberry.subscription(
        description="Each status change of the workflow's documents, and progress (pages "
        "extracted, chunks embedded) while one is processed."
    )
    async def document_events(
        self, info: Info, workflow_id: UUID
    ) -> AsyncGenerator[Document, None]:
        async with info.context.container.live(topic(workflow_id)) as messages:
            async for message in messages:
                yield Document.of(DocumentView.from_message(message))

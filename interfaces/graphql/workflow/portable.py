"""Templates (the gallery of My Stacks, a stack from one in one step) and stack import (a stack
file or zip as a new stack). Exports and the history as JSON Lines are downloads:
`interfaces/stack_routes.py`."""

from __future__ import annotations

import strawberry
from strawberry.file_uploads import Upload

from application.account.access import Resource
from application.workflow import commands as c
from application.workflow.gallery import Need, Template
from application.workflow.stack_file import KeyToEnter
from application.workflow.transfer import ImportedStack as ImportedStackView
from domain.policy import Action
from interfaces.graphql.authorize import needs
from interfaces.graphql.context import Info
from interfaces.graphql.document.types import Document
from interfaces.graphql.resolve import execute, read
from interfaces.graphql.workflow.types import NodeKind, Workflow


@strawberry.type(description="A key a template's stack needs to answer.")
class TemplateNeed:
    provider: str = strawberry.field(description="openai, gemini or websearch")
    description: str = strawberry.field(description='In words, e.g. "an OpenAI API key".')
    provided: bool = strawberry.field(
        description="Whether this server holds such a key that the stack may use."
    )

    @classmethod
    def of(cls, need: Need) -> TemplateNeed:
        return cls(provider=need.provider, description=need.description, provided=need.provided)


@strawberry.type(description="A ready-made stack of the gallery.")
class StackTemplate:
    template: strawberry.Private[Template]
    id: str
    title: str
    description: str

    @strawberry.field(description="The kinds of its nodes, in its order.")
    def kinds(self) -> list[NodeKind]:
        return list(self.template.kinds)

    @strawberry.field(description="The keys it needs; empty when it runs with none.")
    def needs(self, info: Info) -> list[TemplateNeed]:
        return [TemplateNeed.of(n) for n in info.context.services.gallery.needs(self.template)]

    @classmethod
    def of(cls, template: Template) -> StackTemplate:
        return cls(
            template=template,
            id=template.id,
            title=template.title,
            description=template.description,
        )


@strawberry.type(description="A node whose own API key stayed on the server it came from.")
class KeyToReenter:
    node_id: str
    label: str
    setting: str = strawberry.field(description="apiKey or webSearchApiKey")

    @classmethod
    def of(cls, key: KeyToEnter) -> KeyToReenter:
        return cls(node_id=key.node_id, label=key.label, setting=key.setting)


@strawberry.type(description="What importStack made.")
class ImportedStack:
    workflow: Workflow
    documents: list[Document] = strawberry.field(
        description="The documents uploaded from the zip; they are indexed like any upload."
    )
    keys_to_reenter: list[KeyToReenter]
    documents_left_out: int = strawberry.field(
        description="Documents the file lists but does not carry (a JSON export without its "
        "PDFs): upload them again."
    )

    @classmethod
    def of(cls, view: ImportedStackView) -> ImportedStack:
        return cls(
            workflow=Workflow.of(view.workflow),
            documents=[Document.of(d) for d in view.documents],
            keys_to_reenter=[KeyToReenter.of(k) for k in view.keys_to_enter],
            documents_left_out=view.documents_left_out,
        )


@strawberry.type
class PortableQueries:
    @strawberry.field(
        extensions=needs(Action.ACCOUNT),
        description="The templates a stack may start from, in gallery order.",
    )
    async def templates(self, info: Info) -> list[StackTemplate]:
        return [StackTemplate.of(t) for t in await read(info.context.services.gallery.templates)]


@strawberry.type
class PortableMutations:
    @strawberry.mutation(
        extensions=needs(Action.EDIT, Resource.HOME),
        description="A new stack holding a template's graph, named name or after the template.",
    )
    async def create_stack_from_template(
        self, info: Info, template_id: str, name: str | None = None
    ) -> Workflow:
        home = await read(info.context.services.access.home, info.context.principal)
        view = await execute(
            info,
            info.context.services.gallery.create,
            c.CreateFromTemplate,
            template_id=template_id,
            name=name,
            workspace_id=home,
        )
        return Workflow.of(view)

    @strawberry.mutation(
        extensions=needs(Action.EDIT, Resource.HOME),
        description="A new stack from an exported stack file (JSON) or archive (zip with its "
        "PDFs, which are uploaded and indexed). BAD_USER_INPUT for a file that is malformed, "
        "of a newer format version, or changed since its export; nothing is made then.",
    )
    async def import_stack(
        self, info: Info, file: Upload, name: str | None = None
    ) -> ImportedStack:
        home = await read(info.context.services.access.home, info.context.principal)
        view = await execute(
            info,
            info.context.services.transfer.import_stack,
            c.ImportStack,
            stream=file.file,
            name=name,
            workspace_id=home,
        )
        return ImportedStack.of(view)

"""Every published stack as a chat model that programs call the way they call OpenAI's: the
models a principal may use, a model's name resolved to a stack and a published version, and
one call as one chat turn.

A model is named by the slug of its stack's name (`Ask your PDFs` → `ask-your-pdfs`), or by
the stack's id (stable across renames, and the name listed when two stacks share a slug);
`name@v3` pins published version 3, the bare name is the latest published version.

A call is a chat turn like any other: a new session pinned to the version that answers, the
question stored as `UserAsked` with the conversation the caller brought (its earlier turns,
and system messages as instructions), answered by `ChatAnswering`, its tokens and outcome
followed on the session's live topic as the `chatEvents` subscription follows them.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

import anyio
from slugify import slugify

from application.account.access import Access, Resource, signed_in
from application.account.handlers import Workspaces
from application.chat import commands as c
from application.chat.handlers import ChatService
from application.chat.live import ordered_updates
from application.chat.views import ChatMessageView, ChatSessionView, chat_topic
from application.errors import Forbidden
from application.workflow.handlers import WorkflowService
from application.workflow.views import WorkflowView
from domain.chat import Turn, answer_id_for, checked_question
from domain.errors import InvalidCommand, NotFound
from domain.policy import SCOPE_ACTIONS, Action, Principal, can

# `name@v3` or `name@3`: published version 3
_PINNED = re.compile(r"^(?P<name>.+)@v?(?P<number>[0-9]{1,9})$", re.IGNORECASE)
INSTRUCTION_ROLES = ("system", "developer")  # OpenAI's two names for the same thing

Live = Callable[[str], AbstractAsyncContextManager[AsyncIterator[Any]]]


class ModelNotFound(NotFound):
    """No stack the principal may chat with goes by that name, or not at that version."""


class ModelNotPublished(NotFound):
    """The stack exists, but has no published version to answer with."""


@dataclass(frozen=True)
class StackModel:
    """A stack as a model: `name` is what a client calls it by; `pinned` the published
    version asked for (None: the latest)."""

    name: str
    workflow_id: UUID
    stack_name: str
    created_at: datetime
    published: tuple[int, ...]
    workspace: str
    pinned: int | None = None

    @property
    def version(self) -> int:
        return self.pinned if self.pinned is not None else self.published[-1]

    @property
    def answering_name(self) -> str:
        """The model as it answers: the name with the version that answers."""
        return f"{self.name}@v{self.version}"


@dataclass(frozen=True)
class Message:
    """One message of a chat completion request: `system`, `developer`, `user` or
    `assistant`, with its text."""

    role: str
    content: str


@dataclass(frozen=True)
class Conversation:
    """What a list of messages asks: the last one (the user's) is the question, the user and
    assistant messages before it the conversation so far, the system ones instructions."""

    question: str
    history: tuple[Turn, ...] = ()
    instructions: str = ""

    @classmethod
    def of(cls, messages: Sequence[Message]) -> Conversation:
        if not messages:
            raise InvalidCommand("messages: give at least one message, the user's question")
        for m in messages:
            if m.role not in (*INSTRUCTION_ROLES, "user", "assistant"):
                raise InvalidCommand(
                    f"messages: a stack answers from its own graph, so a message is the "
                    f"system's, the user's or the assistant's, not {m.role!r}"
                )
        *before, last = messages
        if last.role != "user":
            raise InvalidCommand("messages: the last message must be the user's question")
        instructions = [m.content.strip() for m in messages if m.role in INSTRUCTION_ROLES]
        history = [Turn(m.role, m.content) for m in before if m.role in ("user", "assistant")]
        # checked now, before a session is started for it
        question, turns, guidance = checked_question(
            last.content,
            [t for t in history if t.content.strip()],  # an empty turn says nothing
            "\n\n".join(i for i in instructions if i),
        )
        return cls(question, turns, guidance)


@dataclass(frozen=True, kw_only=True)
class Complete:
    """A chat completion: `model` names the stack, `messages` the conversation."""

    principal: Principal | None
    model: str
    messages: tuple[Message, ...]


# ---------------------------------------------------------------- what a turn reports


@dataclass(frozen=True)
class Asked:
    """The question is stored: the session, the question, and the model that answers."""

    session: ChatSessionView
    question: ChatMessageView
    model: StackModel

    @property
    def answer_id(self) -> UUID:
        return answer_id_for(self.question.id)


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Answered:
    message: ChatMessageView


@dataclass(frozen=True)
class Failed:
    code: str  # the contract's (application/errors.py)
    message: str


TurnEvent = Asked | Delta | Answered | Failed


class Completions:
    def __init__(
        self,
        chats: ChatService,
        workflows: WorkflowService,
        workspaces: Workspaces,
        access: Access,
        live: Live,
    ) -> None:
        """`live(topic)`: this process's updates on a topic from the moment it is entered."""
        self.chats, self.workflows, self.workspaces = chats, workflows, workspaces
        self.access, self.live = access, live

    # ---------------------------------------------------------------- models

    def models(self, principal: Principal | None) -> list[StackModel]:
        """The stacks the principal may chat with that have a published version."""
        return self._catalogue(principal)[0]

    def model(self, principal: Principal | None, name: str) -> StackModel:
        """The stack and version a model name names; ModelNotFound, ModelNotPublished."""
        models, unpublished = self._catalogue(principal)
        given = name.strip()
        pinned = _PINNED.match(given)
        base = pinned.group("name") if pinned else given
        found = _named(models, base, lambda m: (m.name, m.workflow_id, m.stack_name))
        if found is None:
            if _named(unpublished, base, lambda s: (str(s.id), s.id, s.name)) is not None:
                raise ModelNotPublished(
                    f"The stack {base!r} has no published version yet: build it first."
                )
            raise ModelNotFound(
                f"The model {given!r} does not exist or you do not have access to it."
            )
        if pinned is None:
            return found
        number = int(pinned.group("number"))
        if number not in found.published:
            versions = ", ".join(f"v{n}" for n in found.published)
            raise ModelNotFound(
                f"The stack {found.name!r} has no published version {number} (it has {versions})."
            )
        return replace(found, pinned=number)

    def _catalogue(
        self, principal: Principal | None
    ) -> tuple[list[StackModel], list[WorkflowView]]:
        """The principal's published stacks as models, and their stacks not published."""
        principal = signed_in(principal)
        if principal.token_id is not None and not any(
            Action.CHAT in SCOPE_ACTIONS[scope] for scope in principal.scopes
        ):
            raise Forbidden("this API token may not chat: issue one with the chat scope")
        published: list[tuple[WorkflowView, str]] = []
        unpublished: list[WorkflowView] = []
        for workspace_id in self.access.visible_workspaces(principal):
            workspace = self.workspaces.find(workspace_id)
            if workspace is None:
                continue
            for stack in self.workflows.list_all([workspace_id]):
                if not can(principal, Action.CHAT, workspace, str(stack.id)):
                    continue
                if stack.published:
                    published.append((stack, workspace.name))
                else:
                    unpublished.append(stack)
        slugs = [slugify(stack.name) for stack, _ in published]
        models = [
            StackModel(
                # a name two stacks would share, or one with no letters, is the id
                slug if slug and slugs.count(slug) == 1 else str(stack.id),
                stack.id,
                stack.name,
                stack.created_at,
                tuple(p.number for p in stack.published),
                workspace_name,
            )
            for (stack, workspace_name), slug in zip(published, slugs, strict=True)
        ]
        return models, unpublished

    # ---------------------------------------------------------------- one turn

    async def ask(self, cmd: Complete) -> AsyncGenerator[TurnEvent, None]:
        """Asks the stack and reports the turn: first `Asked` (the question is stored; any
        refusal is raised before it), then the answer's `Delta`s, then `Answered` or
        `Failed`. Leaving early stops the report, not the answer: it is stored all the
        same."""
        conversation = Conversation.of(cmd.messages)
        principal = signed_in(cmd.principal)
        model = await anyio.to_thread.run_sync(self.model, principal, cmd.model)
        await anyio.to_thread.run_sync(
            self.access.check, principal, Action.CHAT, Resource.WORKFLOW, model.workflow_id
        )
        start = c.StartChat(
            actor=principal.actor, workflow_id=model.workflow_id, published_version=model.version
        )
        session = await anyio.to_thread.run_sync(self.chats.start, start)
        async with self.live(chat_topic(session.id)) as updates:
            # joined before asking: every token and the outcome reach us
            seen = await anyio.to_thread.run_sync(self.chats.version_of, session.id)
            question = await self.chats.send(
                c.SendMessage(
                    actor=principal.actor,
                    session_id=session.id,
                    content=conversation.question,
                    conversation=conversation.history,
                    instructions=conversation.instructions,
                )
            )
            asked = Asked(session, question, model)
            yield asked
            async for update in ordered_updates(updates, seen):
                if update.kind == "token" and update.message_id == asked.answer_id:
                    yield Delta(update.delta)
                elif update.kind == "failed" and update.question_id == question.id:
                    yield Failed(update.code, update.error)
                    return
                elif (
                    update.kind == "message"
                    and update.message is not None
                    and update.message.reply_to == question.id
                ):
                    yield Answered(update.message)
                    return


def _named(
    items: Sequence[Any], given: str, names: Callable[[Any], tuple[str, UUID, str]]
) -> Any | None:
    """The one item `given` names: by its model name, its id, or the slug of its name."""
    wanted, slug = given.strip().lower(), slugify(given)
    for item in items:
        name, item_id, _ = names(item)
        if wanted in (name.lower(), str(item_id)):
            return item
    by_slug = [item for item in items if slug and slugify(names(item)[2]) == slug]
    if len(by_slug) > 1:
        ids = ", ".join(str(names(item)[1]) for item in by_slug)
        raise ModelNotFound(f"{given!r} names {len(by_slug)} stacks: call one by its id ({ids}).")
    return by_slug[0] if by_slug else None

"""A chat session's live updates: stored events routed to the session's topic, and the
stream put back in the order things happened."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from application.chat.views import (
    ChatMessageView,
    ChatUpdate,
    chat_topic,
    passage_of,
    web_source_of,
)
from application.ports import Usage
from domain.chat import ChatSession


def chat_route(event: object) -> list[tuple[str, ChatUpdate]]:
    """A stored chat event as its subscribers see it (a router of the live feed)."""
    if isinstance(event, ChatSession.UserAsked):
        message = ChatMessageView(
            event.message_id,
            event.originator_id,
            "USER",
            event.content,
            event.timestamp,
            status="pending",
        )
        update = ChatUpdate("message", event.originator_id, event.originator_version, True, message)
    elif isinstance(event, ChatSession.AssistantAnswered):
        message = ChatMessageView(
            event.message_id,
            event.originator_id,
            "ASSISTANT",
            event.content,
            event.timestamp,
            sources=tuple(passage_of(s) for s in event.sources),
            reply_to=event.question_id,
            model=event.model,
            usage=Usage(**event.usage),
            latency_ms=event.latency_ms,
            web_sources=tuple(web_source_of(w) for w in event.web_sources),
            workflow_version=event.workflow_version,
            published_version=event.published_version,
        )
        update = ChatUpdate("message", event.originator_id, event.originator_version, True, message)
    elif isinstance(event, ChatSession.AnswerFailed):
        update = ChatUpdate(
            "failed",
            event.originator_id,
            event.originator_version,
            True,
            message_id=event.message_id,
            code=event.code,
            error=event.message,
            question_id=event.question_id,
            workflow_version=event.workflow_version,
            published_version=event.published_version,
        )
    else:
        return []
    return [(chat_topic(event.originator_id), update)]


async def ordered_updates(
    raw: AsyncIterator[Any], seen: int, hold: float = 2.0
) -> AsyncIterator[ChatUpdate]:
    """A session's live updates in the order they happened.

    Stored events and ephemeral updates take different paths (the live feed reads the log;
    the bus carries the rest), so a "thinking" may overtake the question it follows. Each
    ephemeral update names the session version it follows: it is held until the stored event
    of that version has gone out (`seen` starts at the version when the subscriber joined),
    or for `hold` seconds at most, should that event never come through this process.
    """
    loop = asyncio.get_running_loop()
    held: list[ChatUpdate] = []
    held_since = 0.0
    pending: asyncio.Future[Any] | None = None
    try:
        while True:
            if pending is None and not held:
                # Nothing held, so no deadline: wait for the next update itself (most of
                # them come this way; a task and asyncio.wait for each cost more than it).
                item = await anext(raw)
            else:
                if pending is None:
                    pending = asyncio.ensure_future(anext(raw))
                timeout = max(0.0, held_since + hold - loop.time()) if held else None
                done, _ = await asyncio.wait({pending}, timeout=timeout)
                if not done:
                    for update in held:
                        yield update
                    held.clear()
                    continue
                item, pending = pending.result(), None
            update = item if isinstance(item, ChatUpdate) else ChatUpdate.from_bus(item)
            if update.stored:
                yield update
                seen = max(seen, update.version)
                while held and held[0].version <= seen:
                    yield held.pop(0)
            elif held or update.version > seen:
                if not held:
                    held_since = loop.time()
                held.append(update)
            else:
                yield update
    finally:
        if pending is not None:
            pending.cancel()

"""Chat sessions as the log holds them: loaded, and changed again after a version clash (an
answer being recorded while a question is asked must not lose either)."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from application.eventlog.log import EventLog, change_with_retry
from domain.chat import ChatSession
from domain.errors import NotFound

MAX_ATTEMPTS = 30


KNOWN_OWNERS = 10_000  # sessions whose stack and author are remembered


class ChatSessions:
    def __init__(self, store: EventLog) -> None:
        self.store = store
        self._owners: dict[UUID, tuple[UUID, str]] = {}

    def owner(self, session_id: UUID) -> tuple[UUID, str]:
        """The session's stack and author (raises NotFound). Neither ever changes once the
        session has started, so once known they are not looked up again."""
        found = self._owners.get(session_id)
        if found is None:
            chat = self.load(session_id)
            found = (chat.workflow_id, chat.author)
            if len(self._owners) >= KNOWN_OWNERS:
                self._owners.clear()
            self._owners[session_id] = found
        return found

    def load(self, session_id: UUID) -> ChatSession:
        try:
            chat: ChatSession = self.store.repository.get(session_id)
        except AggregateNotFoundError:
            raise NotFound(f"there is no chat session {session_id}") from None
        if not isinstance(chat, ChatSession):
            raise NotFound(f"there is no chat session {session_id}")
        return chat

    def change(self, session_id: UUID, command: Callable[[ChatSession], object]) -> ChatSession:
        """Applies a command to the freshest session, again on a version clash."""
        return change_with_retry(
            self.store,
            lambda: self.load(session_id),
            command,
            too_busy=lambda: RuntimeError(f"chat session {session_id} is too busy to change"),
            attempts=MAX_ATTEMPTS,
        )

    def moved_on(self, chat: ChatSession) -> bool:
        """Whether the session has events after this copy of it."""
        return any(True for _ in self.store.events.get(chat.id, gt=chat.version, limit=1))

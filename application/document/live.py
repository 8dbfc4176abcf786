"""A stored Document event as the `documentEvents` subscription shows it (a live-feed route)."""

from __future__ import annotations

from typing import Any

from application.document.views import DocumentView, topic
from application.eventlog.log import EventLog
from domain.document import Document


class DocumentRoute:
    def __init__(self, store: EventLog) -> None:
        self.store = store

    def route(self, event: Any) -> list[tuple[str, dict[str, Any]]]:
        """A stored Document event as the `documentEvents` subscription shows it."""
        if not isinstance(event, Document.Event):
            return []
        if event.originator_version == 1:
            doc: Any = event.mutate(None)
        else:
            doc = self.store.repository.get(event.originator_id, version=event.originator_version)
        assert isinstance(doc, Document)
        view = DocumentView.of(doc)
        return [(topic(view.workflow_id), view.to_message())]

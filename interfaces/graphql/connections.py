"""WebSocket connections (graphql-transport-ws) with bounds: how many one principal may hold
open in this process, and how many operations one connection may run at once.

- Past `GENAI_MAX_CONNECTIONS_PER_USER` a new connection is closed, after its
  `connection_init`, with code 4429 and the reason in words (no `connection_ack`).
- Past `GENAI_MAX_SUBSCRIPTIONS_PER_CONNECTION` a `subscribe` is answered with an `error`
  message for that id (`extensions.code` RATE_LIMITED); the connection and its other
  subscriptions go on.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from interfaces.limits import ConnectionBounds, TooManyConnections


class BoundedTransportWS(BaseGraphQLTransportWSHandler[Any, Any]):
    _counted: str | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        # the router's on_ws_connect raises TooManyConnections (not a rejection of the
        # credentials, which strawberry closes with 4403)
        try:
            await super().handle_connection_init(message)
        except TooManyConnections as refused:
            await self.websocket.close(code=ConnectionBounds.CLOSE_CODE, reason=str(refused))

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        most = self.context.services.settings.genai_max_subscriptions_per_connection
        new = self.connection_acknowledged and message.get("id") not in self.operations
        if new and len(self.operations) >= most:
            error = GraphQLError(
                f"this connection runs {most} operations already, the most one may: "
                "complete one, or open another connection",
                extensions={"code": "RATE_LIMITED"},
            )
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        try:
            await super().shutdown()
        finally:
            key = getattr(self.context, "connection_key", None)
            if key is not None:
                self.context.connection_key = None
                self.context.services.connections.leave(key)

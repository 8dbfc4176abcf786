"""GET /audit/export.jsonl: a workspace's audit log as JSON Lines (admins), with the filters
of the `auditLog` query, streamed a batch at a time, newest first.

    GET /audit/export.jsonl?workspace=<id>&actor=<id>&stack=<id>&kind=<Kind>&kind=…
        &from=<ISO time>&to=<ISO time>
    Authorization: Bearer <access token>

Errors have the GraphQL errors' shape with the contract's codes (401, 403, 404, 400).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from uuid import UUID

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from application.account.access import Resource
from application.eventlog.audit_log import AuditEntryView, AuditFilter
from domain.errors import InvalidCommand
from domain.policy import Action
from interfaces.auth_routes import error_response
from interfaces.bootstrap import Services
from interfaces.principal import principal_of

ALLOWED = {"workspace", "actor", "stack", "kind", "from", "to"}


def audit_router(services_of: Callable[[Request], Services]) -> APIRouter:
    router = APIRouter()

    @router.get("/audit/export.jsonl", include_in_schema=False)
    async def export(request: Request) -> Response:
        services = services_of(request)
        try:
            workspace_id, where = _query(request)
            principal = await principal_of(
                services.accounts.principals, request.headers.get("authorization")
            )
            await anyio.to_thread.run_sync(
                services.access.check,
                principal,
                Action.READ_AUDIT,
                Resource.WORKSPACE,
                workspace_id,
            )
            entries = services.audit_log.export(workspace_id, where)
            # the first batch is read here, so a refusal is an error and not a broken stream
            first = await anyio.to_thread.run_sync(lambda: next(entries, None))
        except Exception as error:
            return error_response(error)

        def lines() -> Iterator[bytes]:
            if first is None:
                return
            yield _line(first)
            for entry in entries:
                yield _line(entry)

        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        return StreamingResponse(
            lines(),  # a sync iterator: Starlette reads it in a worker thread
            media_type="application/jsonl; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="audit-{stamp}.jsonl"',
                "Cache-Control": "no-store",
            },
        )

    return router


def _line(entry: AuditEntryView) -> bytes:
    return (json.dumps(entry.to_json(), ensure_ascii=False) + "\n").encode()


def _query(request: Request) -> tuple[UUID, AuditFilter]:
    params = request.query_params
    unknown = set(params.keys()) - ALLOWED
    if unknown:
        raise InvalidCommand(f"unknown parameters: {', '.join(sorted(unknown))}")
    for name in ALLOWED - {"kind"}:
        if len(params.getlist(name)) > 1:
            raise InvalidCommand(f"give `{name}` once")
    workspace = params.get("workspace")
    if not workspace:
        raise InvalidCommand("say which workspace: ?workspace=<id>")
    stack = params.get("stack")
    return _uuid(workspace, "workspace"), AuditFilter(
        actor=params.get("actor") or None,
        stack_id=_uuid(stack, "stack") if stack else None,
        kinds=tuple(k for k in params.getlist("kind") if k),
        since=_time(params.get("from"), "from"),
        until=_time(params.get("to"), "to"),
    )


def _uuid(value: str, name: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise InvalidCommand(f"`{name}` is not an id") from None


def _time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidCommand(f"`{name}` is not an ISO 8601 time") from None

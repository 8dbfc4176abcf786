"""Downloads of a stack: `GET /stacks/{id}/export.json` (the stack file),
`/stacks/{id}/export.zip` (with its PDFs) and `/stacks/{id}/history.jsonl` (every event,
keys redacted, for an auditor).

Authorized as GraphQL fields are (`Access.check`, the same credentials): a stack of another
workspace, or none, is 404 with the same message; errors have the GraphQL errors' shape.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from uuid import UUID

import anyio
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from application.account.access import Resource
from domain.errors import NotFound
from domain.policy import Action
from interfaces.auth_routes import error_response
from interfaces.principal import principal_of

T = TypeVar("T")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def stack_router(services_of: Callable[[Request], Any]) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    async def call(fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(fn, *args)

    async def allowed(request: Request, stack_id: str, action: Action) -> UUID:
        services = services_of(request)
        principal = await principal_of(
            services.accounts.principals, request.headers.get("authorization")
        )
        try:
            workflow_id = UUID(stack_id)
        except ValueError:
            raise NotFound(f"there is no workflow {stack_id}") from None
        await call(services.access.check, principal, action, Resource.WORKFLOW, workflow_id)
        return workflow_id

    async def filename(request: Request, workflow_id: UUID, suffix: str) -> str:
        view = await call(services_of(request).workflows.get, workflow_id)
        base = _UNSAFE.sub("-", view.name if view else "stack").strip("-.") or "stack"
        return f"{base[:80]}{suffix}"

    @router.get("/stacks/{stack_id}/export.json")
    async def export_json(request: Request, stack_id: str) -> Response:
        try:
            workflow_id = await allowed(request, stack_id, Action.OPEN)
            body = await call(services_of(request).transfer.export_json, workflow_id)
            name = await filename(request, workflow_id, ".genai-stack.json")
        except Exception as error:  # noqa: BLE001 — mapped to its code, or raised again
            return error_response(error)
        return Response(body, media_type="application/json", headers=_attachment(name))

    @router.get("/stacks/{stack_id}/export.zip")
    async def export_zip(request: Request, stack_id: str) -> Response:
        transfer = services_of(request).transfer
        spool = tempfile.TemporaryFile()  # noqa: SIM115 — closed after the response is sent
        try:
            workflow_id = await allowed(request, stack_id, Action.OPEN)
            await call(transfer.export_zip, workflow_id, spool)
            name = await filename(request, workflow_id, ".genai-stack.zip")
        except Exception as error:  # noqa: BLE001
            spool.close()
            return error_response(error)
        size = spool.tell()
        spool.seek(0)
        return StreamingResponse(
            _chunks(spool),
            media_type="application/zip",
            headers={**_attachment(name), "content-length": str(size)},
            background=BackgroundTask(spool.close),
        )

    @router.get("/stacks/{stack_id}/history.jsonl")
    async def history(request: Request, stack_id: str) -> Response:
        try:
            workflow_id = await allowed(request, stack_id, Action.READ_HISTORY)
            lines = await call(
                lambda: list(services_of(request).transfer.history_lines(workflow_id))
            )
            name = await filename(request, workflow_id, ".history.jsonl")
        except Exception as error:  # noqa: BLE001
            return error_response(error)
        return Response(
            "".join(lines).encode("utf-8"),
            media_type="application/jsonl",
            headers=_attachment(name),
        )

    return router


def _attachment(name: str) -> dict[str, str]:
    return {"content-disposition": f'attachment; filename="{name}"', "cache-control": "no-store"}


def _chunks(file: Any) -> Iterator[bytes]:
    while chunk := file.read(64 * 1024):
        yield chunk

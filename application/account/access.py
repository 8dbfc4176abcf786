"""Who may act on what: every resource a request names is resolved to its workspace, and the
principal's role (or token's scopes) there decides, by the one table of `domain.policy`.

A resource of a workspace the principal is not of, and a chat session of someone else (to
anyone but the workspace's admins), read as resources that do not exist (NOT_FOUND): their
existence is not revealed. What the principal sees but may not do is FORBIDDEN.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from application.account.handlers import ApiTokens, Workspaces
from application.chat.sessions import ChatSessions
from application.document.handlers import DocumentService
from application.errors import Forbidden, Unauthenticated
from application.workflow.handlers import WorkflowService
from domain.errors import NotFound
from domain.policy import Action, Principal, belongs, can, permits
from domain.workspace import DEFAULT_WORKSPACE, Workspace


class Resource(StrEnum):
    """What a field's argument names."""

    WORKFLOW = "workflow"
    DOCUMENT = "document"
    CHAT_SESSION = "chat session"
    WORKSPACE = "workspace"
    API_TOKEN = "API token"
    HOME = "home"  # no argument: the workspace a new stack goes to


class Access:
    def __init__(
        self,
        workspaces: Workspaces,
        api_tokens: ApiTokens,
        workflows: WorkflowService,
        documents: DocumentService,
        sessions: ChatSessions,
    ) -> None:
        self.workspaces, self.api_tokens = workspaces, api_tokens
        self.workflows, self.documents, self.sessions = workflows, documents, sessions

    def check(
        self,
        principal: Principal | None,
        action: Action,
        resource: Resource | None = None,
        resource_id: UUID | None = None,
    ) -> None:
        """Returns when `principal` may do `action` on the resource; raises Unauthenticated,
        NotFound or Forbidden. Without a resource, being signed in is enough (what the use
        case reads is then limited to what the principal may see)."""
        principal = signed_in(principal)
        if not permits(principal, action):
            raise Forbidden("a publishable token only chats with its stack")
        if resource is None:
            return
        if resource is Resource.HOME:
            self.home(principal, action)
            return
        assert resource_id is not None
        unseen = f"there is no {resource} {resource_id}"  # the same whether it exists or not
        try:
            workspace_id, stack_id, author = self._owner(resource, resource_id)
        except NotFound:
            raise NotFound(unseen) from None
        workspace = self._workspace(principal, workspace_id, unseen)
        if not can(principal, action, workspace, stack_id):
            raise Forbidden(f"your role in this workspace does not allow {action.value}")
        others = author is not None and author != principal.actor
        if others and not can(principal, Action.MANAGE_MEMBERS, workspace):
            raise NotFound(unseen)

    def home(self, principal: Principal | None, action: Action = Action.EDIT) -> UUID:
        """The workspace a new stack of the principal goes to: a token's own; a user's
        default workspace when they are of it, else their first."""
        principal = signed_in(principal)
        if principal.token_id is not None:
            workspace_id = UUID(str(principal.workspace_id))
        else:
            mine = self.visible_workspaces(principal)
            if not mine:
                raise Forbidden("you are in no workspace: create one or accept an invitation")
            workspace_id = DEFAULT_WORKSPACE if DEFAULT_WORKSPACE in mine else mine[0]
        workspace = self._workspace(principal, workspace_id, "no workspace")
        if not can(principal, action, workspace):
            raise Forbidden(f"your role in this workspace does not allow {action.value}")
        return workspace_id

    def visible_workspaces(self, principal: Principal | None) -> list[UUID]:
        """The workspaces whose stacks the principal may open. The local owner's own is the
        default one, made at start: theirs without waiting for the read table."""
        principal = signed_in(principal)
        mine = [w.id for w in self.workspaces.visible_to(principal)]
        if principal.local and DEFAULT_WORKSPACE not in mine:
            mine.insert(0, DEFAULT_WORKSPACE)
        return mine

    def may_read_all_sessions(self, principal: Principal | None, workflow_id: UUID) -> bool:
        """Whether the principal reads every chat of the workflow (its workspace's admins),
        or only their own."""
        workspace = self.workspaces.find(self.workflows.workspace_of(workflow_id))
        return workspace is not None and can(principal, Action.MANAGE_MEMBERS, workspace)

    def _owner(self, resource: Resource, resource_id: UUID) -> tuple[UUID, str | None, str | None]:
        """The workspace of the resource, its stack, and its author when only they may see it."""
        if resource is Resource.WORKSPACE:
            return resource_id, None, None
        if resource is Resource.API_TOKEN:
            record = self.api_tokens.store.by_id(resource_id)
            if record is None:
                raise NotFound(f"no token {resource_id}")
            return record.workspace_id, None, None
        author = None
        if resource is Resource.WORKFLOW:
            workflow_id = resource_id
        elif resource is Resource.DOCUMENT:
            document = self.documents.load(resource_id)
            if document is None:
                raise NotFound(f"there is no document {resource_id}")
            workflow_id = document.workflow_id
        else:
            workflow_id, author = self.sessions.owner(resource_id)
        return self.workflows.workspace_of(workflow_id), str(workflow_id), author

    def _workspace(self, principal: Principal, workspace_id: UUID, missing: str) -> Workspace:
        workspace = self.workspaces.find(workspace_id)
        if workspace is None or not belongs(principal, workspace):
            raise NotFound(missing)
        return workspace


def signed_in(principal: Principal | None) -> Principal:
    if principal is None:
        raise Unauthenticated("sign in first")
    return principal

"""The ways a command can be refused, in the words of the canvas.

Each is mapped to a contract error code once, at the GraphQL edge.
"""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """A command the domain refuses."""


class NotFound(DomainError):
    """Something named by the command does not exist (or no longer does)."""


class InvalidCommand(DomainError):
    """The command contradicts the rules: unknown kind, duplicate id, bad ports, bad config…"""


class Conflict(DomainError):
    """The caller's expected version is stale: someone else changed the workflow first."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(
            f"the workflow is at version {actual}, not {expected}: reload and try again"
        )
        self.expected, self.actual = expected, actual


@dataclass(frozen=True)
class ValidationIssue:
    """One reason a graph cannot be published yet."""

    code: str
    message: str
    node_id: str | None = None
    edge_id: str | None = None


class InvalidWorkflow(DomainError):
    """Publishing (or chatting with) a graph that does not validate."""

    def __init__(self, message: str, issues: tuple[ValidationIssue, ...] = ()) -> None:
        super().__init__(message)
        self.issues = issues

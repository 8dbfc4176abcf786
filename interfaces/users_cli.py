"""`genai-stack users …`: accounts from the console of the machine that runs the server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer

users_cli = typer.Typer(help="Accounts: create users, reset passwords, disable and enable.")

CONSOLE = "console"  # the actor of changes made here

PASSWORD = typer.Option(
    ..., prompt=True, hide_input=True, confirmation_prompt=True, help="Asked for when not given."
)


@contextmanager
def _accounts() -> Iterator[Any]:
    from infrastructure.settings import Settings
    from interfaces.bootstrap import bootstrap

    services = bootstrap(Settings())
    try:
        yield services.accounts
    finally:
        services.stop()


def _run(action: Callable[[Any], str]) -> None:
    from domain.errors import DomainError

    with _accounts() as accounts:
        try:
            typer.echo(action(accounts))
        except DomainError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(1) from None


@users_cli.command("create")
def create(
    email: str = typer.Option(..., help="Their email, to sign in with."),
    password: str = PASSWORD,
    name: str = typer.Option("", help="The name shown."),
    admin: bool = typer.Option(False, help="An admin of this server."),
) -> None:
    """Creates a user (an admin of the server with --admin)."""

    def action(accounts: Any) -> str:
        user = accounts.users.register(email, password, name, CONSOLE, admin=admin)
        if admin:
            accounts.workspaces.ensure_default(user.id, CONSOLE)
        return f"created {user.email} ({user.id})"

    _run(action)


@users_cli.command("reset-password")
def reset_password(email: str = typer.Option(...), password: str = PASSWORD) -> None:
    """Sets a new password and signs the user out everywhere."""

    def action(accounts: Any) -> str:
        accounts.users.reset_password(email, password, CONSOLE)
        return f"password of {email} reset; their sessions are ended"

    _run(action)


@users_cli.command("disable")
def disable(email: str = typer.Option(...)) -> None:
    """Stops a user signing in, and ends their sessions."""

    def action(accounts: Any) -> str:
        accounts.users.disable(email, CONSOLE)
        return f"{email} disabled"

    _run(action)


@users_cli.command("enable")
def enable(email: str = typer.Option(...)) -> None:
    """Lets a disabled user sign in again."""

    def action(accounts: Any) -> str:
        accounts.users.enable(email, CONSOLE)
        return f"{email} enabled"

    _run(action)

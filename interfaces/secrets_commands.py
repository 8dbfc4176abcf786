"""`genai-stack secrets`: rotating the key that stored API keys are encrypted with."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from infrastructure.secret_keys import SecretKeyError

if TYPE_CHECKING:
    from infrastructure.secrets import SqlSecretStore

secrets = typer.Typer(help="The keys that stored API keys are encrypted with.")


@contextmanager
def _store() -> Iterator[SqlSecretStore]:
    from infrastructure.settings import Settings
    from interfaces.bootstrap import bootstrap

    services = bootstrap(Settings())
    try:
        yield services.workflows.secrets  # type: ignore[misc]
    finally:
        services.stop()


@secrets.command("rotate")
def rotate(
    new_key: str = typer.Option(
        None,
        envvar="GENAI_NEW_SECRET_KEY",
        help="The new Fernet key (default: one generated). Only with the key file.",
        show_default=False,
    ),
) -> None:
    """Re-encrypts every stored API key under a new key. With the key file in the data
    directory (no GENAI_SECRET_KEY), a new key is put first in it and servers pick it up as
    they run; the old keys stay until `secrets prune`. With GENAI_SECRET_KEY, put the new key
    first in it (new,old) on every server, then run this."""
    from cryptography.fernet import Fernet

    with _store() as store:
        ring = store.keys
        if ring.path is None:
            if new_key:
                raise SecretKeyError(
                    "GENAI_SECRET_KEY is set, so the keys come from it: put the new key first "
                    "in it (new,old) on every server, then run `secrets rotate` without --new-key"
                )
            if len(ring.keys()) < 2:
                raise SecretKeyError(
                    "GENAI_SECRET_KEY holds one key: put a new key before it (new,old) on "
                    "every server, then run `secrets rotate`"
                )
        store.check_readable()  # before a new key is added: a refusal changes nothing
        if ring.path is not None:
            ring.add_newest(new_key.encode() if new_key else Fernet.generate_key())
        count = store.rotate()
    where = f"now first in {ring.path}" if ring.path else "the first in GENAI_SECRET_KEY"
    typer.echo(f"Re-encrypted {count} stored API keys under the new key, {where}.")
    typer.echo("Older keys still decrypt until `genai-stack secrets prune` drops them.")


@secrets.command("prune")
def prune() -> None:
    """Drops every key but the newest from the key file, once the newest decrypts every
    stored API key (with GENAI_SECRET_KEY: says whether the older ones can be removed)."""
    with _store() as store:
        ring = store.keys
        left = store.needing_older_keys()
        if left:
            raise SecretKeyError(
                f"{left} stored API keys still need an older key: run `genai-stack secrets "
                "rotate` first; no key was dropped"
            )
        if ring.path is None:
            typer.echo(
                "Every stored API key decrypts with the first key of GENAI_SECRET_KEY: the "
                "others can be removed from it."
            )
            return
        dropped = len(ring.keys()) - 1
        ring.keep_newest_only()
    typer.echo(f"Dropped {dropped} older keys from {ring.path}.")

"""The one place that decides which key a node's request carries: the node's own (read from
the secret store), else the server's where the key policy lets it go, else none."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from application.ports import SecretStore
from domain.components import SECRET_FIELDS, is_secret_reference
from domain.errors import InvalidCommand
from domain.graph import Node
from domain.key_policy import NO_SERVER_KEYS, KeyPolicy
from domain.node_settings import ProviderAccess


class KeyUnavailable(Exception):
    """A node cannot be run: the key it needs is not there. The message names the node and
    says what to do; it never holds a key."""


class NodeKeys:
    def __init__(
        self,
        secrets: SecretStore,
        server_keys: Mapping[str, str] | None = None,
        policy: KeyPolicy = NO_SERVER_KEYS,
    ) -> None:
        """`server_keys`: the server's own key by provider; `policy` where they may go."""
        self.secrets, self.policy = secrets, policy
        self._server_keys = dict(server_keys or {})

    def key_for(self, node_label: str, access: ProviderAccess) -> str | None:
        """The key for a request of `node_label` to `access`; None to go without (a local
        OpenAI-compatible server). Blocking (the secret store): call it off the event loop."""
        if access.key_cleared:
            raise KeyUnavailable(f"{node_label}: {self.policy.key_problem(access)}")
        if access.key_ref:
            try:
                return self.secrets.get(access.key_ref)
            except KeyError:
                raise KeyUnavailable(
                    f"{node_label}: its stored API key cannot be read; enter it again"
                ) from None
        if self.policy.sends_server_key(access):
            return self._server_keys.get(access.provider)
        if access.provider in self.policy.server_keys and not access.keyless_ok:
            # the server has a key for the provider, but not for this address
            raise KeyUnavailable(f"{node_label}: {self.policy.key_problem(access)}")
        return None  # keyless; a provider that wants a key says so


def refuse_moved_keys(config: Mapping[str, Any], node: Node | None) -> None:
    """A stored key stays with the node, and so the address, it was entered for: a command
    may give a key's reference back only as that node holds it, never move it elsewhere."""
    if not isinstance(config, Mapping):
        raise InvalidCommand("a config must be a JSON object")
    for name in SECRET_FIELDS:
        value = config.get(name)
        if is_secret_reference(value) and (node is None or node.config.get(name) != value):
            raise InvalidCommand(
                f"{name}: a stored key stays with the node it was entered for; enter the key"
            )

"""The models a node's provider offers, listed from its server for the node's model picker
(Ollama's `GET /api/tags`). The request goes where the node's requests would: the address is
checked as a node's base URL, and the server's outbound rules apply."""

from __future__ import annotations

from collections.abc import Mapping

from application.ports import ModelCatalog, ModelInfo
from application.workflow import commands as c
from domain.components import CHOICE_NAMES, NodeKind, config_problems
from domain.errors import InvalidCommand


class ProviderModels:
    def __init__(self, catalogs: Mapping[str, ModelCatalog]) -> None:
        """`catalogs`: the providers whose servers list their models, by provider name."""
        self.catalogs = dict(catalogs)

    async def list(self, cmd: c.ListModels) -> list[ModelInfo]:
        """The models of the provider's server at `cmd.base_url` (its default address when
        None); InvalidCommand for a provider that lists none or an address that is not one,
        ProviderError when the server cannot be asked."""
        catalog = self.catalogs.get(cmd.provider)
        if catalog is None:
            name = CHOICE_NAMES.get(cmd.provider, cmd.provider)
            listed = ", ".join(CHOICE_NAMES.get(p, p) for p in sorted(self.catalogs))
            raise InvalidCommand(
                f"{name} models are not listed from a server (only {listed}): type the model's name"
            )
        base_url = (cmd.base_url or "").strip() or None
        if base_url is not None:
            problems = config_problems(NodeKind.LLM_ENGINE, {"baseUrl": base_url})
            if problems:
                raise InvalidCommand("; ".join(problems))
        return await catalog.models(base_url)

"""The served schema keeps the API contract (../shared/contract/schema.graphql)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from graphql import build_schema
from graphql.utilities import find_breaking_changes

from tests.integration.servers import GENAI_STACK

CONTRACT = Path(__file__).resolve().parents[3] / "shared" / "contract" / "schema.graphql"

# Contract parts that open issues add; a break anywhere else fails. Empty once they land.
PENDING: dict[str, set[str]] = {}


def test_the_served_schema_breaks_nothing_of_the_contract() -> None:
    assert CONTRACT.exists(), f"the contract is expected at {CONTRACT}"
    served_sdl = subprocess.run(
        [GENAI_STACK, "schema"], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    breaks = find_breaking_changes(build_schema(CONTRACT.read_text()), build_schema(served_sdl))
    allowed = set().union(*PENDING.values()) if PENDING else set()
    unexpected = [b.description for b in breaks if b.description not in allowed]
    assert unexpected == []


def test_the_spa_is_built_against_the_served_schema() -> None:
    """frontend/schema.graphql feeds the SPA's generated types; it must be the served SDL.
    After a schema change: `genai-stack schema > frontend/schema.graphql`."""
    served_sdl = subprocess.run(
        [GENAI_STACK, "schema"], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    committed = (Path(__file__).resolve().parents[2] / "frontend" / "schema.graphql").read_text()
    assert committed == served_sdl

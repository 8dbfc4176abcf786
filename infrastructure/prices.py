"""What answers cost: a price table per model, in US dollars per million tokens.

The defaults are the providers' list prices for common models when this was written; set
`GENAI_MODEL_PRICES` (JSON) to add models or correct a price, e.g.
`{"gpt-4o-mini": {"input": 0.15, "output": 0.6}, "llama3.1": {"input": 0, "output": 0}}`.
A model without a price has no cost (null), rather than a wrong one.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, Field

from application.ports import Usage


class ModelPrice(BaseModel):
    input: float = Field(ge=0, description="USD per million prompt tokens")
    output: float = Field(ge=0, description="USD per million completion tokens")


DEFAULT_PRICES: dict[str, ModelPrice] = {
    name: ModelPrice(input=i, output=o)
    for name, (i, o) in {
        "extractive": (0.0, 0.0),
        "ollama": (0.0, 0.0),  # a model on one's own server: `ollama/<model>`
        "gpt-5": (1.25, 10.0),
        "gpt-5-mini": (0.25, 2.0),
        "gpt-5-nano": (0.05, 0.4),
        "gpt-4.1": (2.0, 8.0),
        "gpt-4.1-mini": (0.4, 1.6),
        "gpt-4.1-nano": (0.1, 0.4),
        "gpt-4o": (2.5, 10.0),
        "gpt-4o-mini": (0.15, 0.6),
        "o4-mini": (1.1, 4.4),
        "o3": (2.0, 8.0),
        "gemini-2.5-pro": (1.25, 10.0),
        "gemini-2.5-flash": (0.3, 2.5),
        "gemini-2.5-flash-lite": (0.1, 0.4),
        "gemini-2.0-flash": (0.1, 0.4),
        "gemini-2.0-flash-lite": (0.075, 0.3),
    }.items()
}


def price_of(prices: Mapping[str, ModelPrice], model: str) -> ModelPrice | None:
    """The model's price: its own entry, else the longest entry it starts with, so that a
    dated snapshot (`gpt-4o-mini-2024-07-18`) or a path (`models/gemini-2.5-flash`) is
    priced like its family, and `ollama/<model>` like the local server it ran on."""
    name = model.strip().lower().removeprefix("models/")
    if name in prices:
        return prices[name]
    family = [key for key in prices if name.startswith((key + "-", key + ":", key + "/"))]
    return prices[max(family, key=len)] if family else None


def cost_of(prices: Mapping[str, ModelPrice], model: str, usage: Usage) -> float | None:
    price = price_of(prices, model)
    if price is None:
        return None
    return (usage.prompt_tokens * price.input + usage.completion_tokens * price.output) / 1e6

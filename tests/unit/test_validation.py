"""The edge's check of command input (application.validation): what any store can hold
passes, whatever its shape; one NUL, lone surrogate or non-finite number anywhere is refused
with the path to it."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.validation import MAX_DEPTH, check_arguments
from domain.errors import InvalidCommand

clean_text = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=30
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | clean_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(clean_text, inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_values_every_store_can_hold_pass(value: Any) -> None:
    check_arguments({"config": value})


def _plant(value: Any, bad: Any) -> tuple[Any, str]:
    """`value` with `bad` at its deepest first place, and the path to it."""
    if isinstance(value, dict) and value:
        key = next(iter(value))
        inner, path = _plant(value[key], bad)
        return {**value, key: inner}, f".{key}{path}"
    if isinstance(value, list) and value:
        inner, path = _plant(value[0], bad)
        return [inner, *value[1:]], f"[0]{path}"
    return bad, ""


@pytest.mark.parametrize(
    ("bad", "words"),
    [("a\x00b", "NUL"), ("a\ud800", "lone surrogate"), (math.nan, "finite"), (-math.inf, "finite")],
)
@given(value=json_values)
def test_one_unstorable_value_anywhere_is_refused_with_its_path(
    value: Any, bad: Any, words: str
) -> None:
    planted, path = _plant(value, bad)
    with pytest.raises(InvalidCommand) as refused:
        check_arguments({"config": planted})
    assert str(refused.value).startswith(f"config{path}: ") and words in str(refused.value)


def test_nesting_past_the_limit_is_refused() -> None:
    deep: Any = 1
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    check_arguments({"config": deep[0]})  # twelve levels of lists
    with pytest.raises(InvalidCommand, match="nested more than 12 levels"):
        check_arguments({"config": deep})

"""Nothing key-like reaches an audit entry: whatever text surrounds a key or a token, it is
masked; ordinary words are left as they are."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from application.eventlog.audit_log import REDACTED, quote, redact

ALNUM = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1
)
KEYS = st.one_of(
    st.builds(lambda s: "sk-" + s, ALNUM.filter(lambda s: len(s) >= 8)),
    st.builds(
        lambda p, s: p + s,
        st.sampled_from(["gst_", "gsi_", "gsu_"]),
        ALNUM.filter(lambda s: len(s) >= 8),
    ),
    st.builds(lambda s: "AIza" + s, ALNUM.filter(lambda s: len(s) >= 20)),
    st.builds(lambda s: "Bearer " + s, ALNUM.filter(lambda s: len(s) >= 8)),
    st.text(alphabet="0123456789abcdef", min_size=32, max_size=80),
)
WORDS = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz“”→:.,()", min_size=1, max_size=12), max_size=12
).map(" ".join)


@given(before=WORDS, key=KEYS, after=WORDS)
def test_a_key_among_any_words_is_masked(before: str, key: str, after: str) -> None:
    masked = redact(f"{before} {key} {after}")
    assert key not in masked
    assert REDACTED in masked


@given(text=WORDS)
def test_words_without_keys_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_summaries_as_written_are_left_alone() -> None:
    for summary in (
        "Renamed “Support bot” → “Helpdesk”",
        "LLM Engine: API key changed",
        "Uploaded “annual-report-2024-final-version.pdf” to Knowledge Base",
        "Made 3f2a0c1e-8d7b-4c1a-9e2f-0a1b2c3d4e5f editor",  # ids are not secrets
    ):
        assert redact(summary) == summary


@given(text=st.text(max_size=300))
def test_a_quote_is_one_line_of_at_most_sixty_characters(text: str) -> None:
    quoted = quote(text)
    assert "\n" not in quoted and len(quoted) <= 62

"""What a provider sends back is bounded before it is stored: an answer past MAX_ANSWER
characters is cut with a note (not stored as one event of megabytes), its text is text every
store can hold, and the token counts a provider reports are clamped (a count of 2^62 would
not fit the usage table, nor a GraphQL Int)."""

from __future__ import annotations

from application.ports import Usage

MAX_ANSWER = 100_000  # characters
MAX_TOKENS = 10_000_000  # per answer, either way: more than any model's context
CUT_NOTE = f"\n\n[The answer was cut here: it passed {MAX_ANSWER:,} characters.]"


class AnswerText:
    """An answer as it streams in: `add` gives back what of a piece may still be shown, until
    the answer is full."""

    def __init__(self, limit: int = MAX_ANSWER) -> None:
        self.limit, self.pieces, self.size, self.cut = limit, list[str](), 0, False

    def add(self, piece: str) -> str:
        room, clean = self.limit - self.size, storable(piece)
        kept = clean[:room]
        self.pieces.append(kept)
        self.size += len(kept)
        if len(clean) > room:
            self.cut = True
            self.pieces.append(CUT_NOTE)
            return kept + CUT_NOTE
        return kept

    @property
    def full(self) -> bool:
        return self.cut

    def text(self) -> str:
        return "".join(self.pieces)


def storable(text: str) -> str:
    """Without NUL (no PostgreSQL text holds it) and with lone surrogates replaced."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def clamped(usage: Usage) -> Usage:
    def bound(count: object) -> int:
        return min(max(count, 0), MAX_TOKENS) if isinstance(count, int) else 0

    return Usage(bound(usage.prompt_tokens), bound(usage.completion_tokens))

"""The GraphQL types of answer feedback: an answer's rating, and a stack's feedback."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from application.chat.views import AnswerFeedbackView, FeedbackView, RatedAnswerView
from domain import chat
from interfaces.graphql.context import Info

AnswerRating = strawberry.enum(chat.Rating, name="AnswerRating", description="Thumbs up or down.")


@strawberry.type(description="The rating an answer has: thumbs up or down, and why.")
class AnswerFeedback:
    message_id: UUID = strawberry.field(description="The answer's id.")
    session_id: UUID
    rating: AnswerRating | None = strawberry.field(
        description="null once the rating was withdrawn."
    )
    note: str = strawberry.field(description="Why, in the rater's words; may be empty.")
    actor: str = strawberry.field(description="Who rated it, as events name them.")
    rated_at: datetime

    @strawberry.field(description="Who rated it, as people read it.")
    async def actor_name(self, info: Info) -> str:
        return await info.context.actor_names.load(self.actor)

    @classmethod
    def of(cls, f: AnswerFeedbackView) -> AnswerFeedback:
        return cls(
            message_id=f.message_id,
            session_id=f.session_id,
            rating=f.rating,
            note=f.note,
            actor=f.actor,
            rated_at=f.rated_at,
        )


@strawberry.type(description="An answer rated down, with the question it answered.")
class RatedAnswer:
    feedback: AnswerFeedback
    question: str
    answer: str
    asked_at: datetime | None
    model: str | None
    published_version: int | None = strawberry.field(
        description="The published version that answered; null when the draft did."
    )

    @classmethod
    def of(cls, r: RatedAnswerView) -> RatedAnswer:
        return cls(
            feedback=AnswerFeedback.of(r.feedback),
            question=r.question,
            answer=r.answer,
            asked_at=r.asked_at,
            model=r.model,
            published_version=r.published_version,
        )


@strawberry.type(
    description="How a stack's answers were rated: the counts, and a page of the answers "
    "rated down (newest rating first)."
)
class StackFeedback:
    up: int
    down: int
    rated_down: list[RatedAnswer]
    offset: int = strawberry.field(description="Where this page starts among the rated down.")
    has_more: bool = strawberry.field(description="Whether more answers rated down follow.")

    @classmethod
    def of(cls, f: FeedbackView) -> StackFeedback:
        return cls(
            up=f.up,
            down=f.down,
            rated_down=[RatedAnswer.of(r) for r in f.rated_down],
            offset=f.offset,
            has_more=f.has_more,
        )

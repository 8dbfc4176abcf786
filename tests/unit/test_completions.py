"""What a chat completion's messages ask: the question, the conversation before it, the
instructions; refused before any session starts when they cannot be asked."""

from __future__ import annotations

import pytest

from application.chat.completions import Conversation, Message
from domain.chat import Turn
from domain.errors import InvalidCommand


def test_the_last_users_message_is_the_question_and_the_rest_its_conversation() -> None:
    conversation = Conversation.of(
        [
            Message("system", "Answer briefly."),
            Message("user", "What is the torque?"),
            Message("assistant", "40 Nm."),
            Message("developer", "Cite the manual."),
            Message("assistant", ""),  # says nothing: not kept
            Message("user", "  And the weight?  "),
        ]
    )

    assert conversation == Conversation(
        "And the weight?",
        (Turn("user", "What is the torque?"), Turn("assistant", "40 Nm.")),
        "Answer briefly.\n\nCite the manual.",
    )


def test_a_single_question_has_no_conversation() -> None:
    assert Conversation.of([Message("user", "Hi?")]) == Conversation("Hi?")


@pytest.mark.parametrize(
    "messages",
    [
        [],
        [Message("user", "Hi?"), Message("assistant", "Hello")],
        [Message("system", "Be brief.")],
        [Message("tool", "42"), Message("user", "Hi?")],
        [Message("user", "   ")],
        [Message("user", "x" * 20_001)],
    ],
)
def test_messages_that_ask_nothing_a_stack_can_answer_are_refused(
    messages: list[Message],
) -> None:
    with pytest.raises(InvalidCommand):
        Conversation.of(messages)

"""Answer feedback through GraphQL (issue 11, item 8): thumbs up or down with a note on an
answer, shown on the message and in the stack's feedback with the question it answered;
changed and withdrawn; refused for what is not an answer of the session, for a token
without the chat scope and for another workspace's people."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from domain.chat import MAX_NOTE
from domain.workspace import DEFAULT_WORKSPACE
from interfaces.app import create_app
from tests.conftest import make_settings
from tests.integration.accounts_client import AsPrincipal, register, signed_in_gql
from tests.integration.chat_ops import SEND, SESSION, published_workflow, start_chat, stored
from tests.integration.gql import GQL, GraphQLError

pytestmark = pytest.mark.timeout(300)

EXTRACTIVE = {"provider": "extractive"}
RATE = """mutation($s: UUID!, $m: UUID!, $r: AnswerRating, $n: String! = "") {
  rateAnswer(sessionId: $s, messageId: $m, rating: $r, note: $n) {
    messageId sessionId rating note actor actorName ratedAt } }"""
FEEDBACK = """query($w: UUID!, $first: Int! = 20, $offset: Int! = 0) {
  feedback(workflowId: $w, first: $first, offset: $offset) {
    up down offset hasMore
    ratedDown { question answer askedAt model publishedVersion
      feedback { messageId sessionId rating note actor actorName ratedAt } } } }"""
RATINGS = """query($s: UUID!) { chatSession(id: $s) { messages { id role
  feedback { messageId rating note actor } } } }"""


def ask(gql: GQL, session: str, questions: list[str]) -> list[dict[str, Any]]:
    """Asks each question and waits for every answer: the answers, in order."""
    for question in questions:
        gql(SEND, s=session, c=question)
    messages = stored(gql, session, 2 * len(questions))
    return [m for m in messages if m["role"] == "ASSISTANT"]


def refusal(gql: GQL, query: str, **variables: Any) -> GraphQLError:
    with pytest.raises(GraphQLError) as refused:
        gql(query, **variables)
    return refused.value


def test_an_answer_rated_down_with_a_note_shows_in_the_stacks_feedback(gql: GQL) -> None:
    w = published_workflow(gql, EXTRACTIVE)
    session = start_chat(gql, w)
    first, second = ask(gql, session, ["What is the warranty?", "Who makes it?"])

    rated = gql(RATE, s=session, m=first["id"], r="DOWN", n="  Quoted nothing useful.  ")
    assert rated["rateAnswer"] | {"ratedAt": None} == {
        "messageId": first["id"],
        "sessionId": session,
        "rating": "DOWN",
        "note": "Quoted nothing useful.",
        "actor": "local",
        "actorName": "local (you)",
        "ratedAt": None,
    }
    gql(RATE, s=session, m=second["id"], r="UP")

    messages = gql(RATINGS, s=session)["chatSession"]["messages"]
    by_id = {m["id"]: m["feedback"] for m in messages}
    assert by_id[first["id"]] == {
        "messageId": first["id"],
        "rating": "DOWN",
        "note": "Quoted nothing useful.",
        "actor": "local",
    }
    assert by_id[second["id"]]["rating"] == "UP"
    assert [by_id[m["id"]] for m in messages if m["role"] == "USER"] == [None, None]

    feedback = gql(FEEDBACK, w=w)["feedback"]
    assert (feedback["up"], feedback["down"], feedback["hasMore"]) == (1, 1, False)
    [down] = feedback["ratedDown"]
    assert down["question"] == "What is the warranty?"
    assert down["answer"] == first["content"]
    assert (down["model"], down["publishedVersion"]) == ("extractive", 1)
    assert down["feedback"]["note"] == "Quoted nothing useful."
    assert down["feedback"]["ratedAt"] == rated["rateAnswer"]["ratedAt"]

    # changing one's mind is a new rating; withdrawing leaves none
    gql(RATE, s=session, m=first["id"], r="UP")
    assert gql(FEEDBACK, w=w)["feedback"] | {"ratedDown": None} == {
        "up": 2,
        "down": 0,
        "offset": 0,
        "hasMore": False,
        "ratedDown": None,
    }
    withdrawn = gql(RATE, s=session, m=first["id"], r=None)["rateAnswer"]
    assert (withdrawn["rating"], withdrawn["note"]) == (None, "")
    assert gql(FEEDBACK, w=w)["feedback"]["up"] == 1
    messages = gql(RATINGS, s=session)["chatSession"]["messages"]
    assert {m["id"]: m["feedback"] for m in messages}[first["id"]] is None


def test_what_is_not_an_answer_of_the_session_cannot_be_rated(gql: GQL) -> None:
    w = published_workflow(gql, EXTRACTIVE)
    session, other = start_chat(gql, w), start_chat(gql, w)
    [answer] = ask(gql, session, ["What is the warranty?"])
    question = gql(SESSION, s=session)["chatSession"]["messages"][0]["id"]
    assert refusal(gql, RATE, s=session, m=question, r="UP").code == "NOT_FOUND"
    assert refusal(gql, RATE, s=other, m=answer["id"], r="UP").code == "NOT_FOUND"
    too_long = refusal(gql, RATE, s=session, m=answer["id"], r="DOWN", n="x" * (MAX_NOTE + 1))
    assert too_long.code == "BAD_USER_INPUT" and "longer than" in too_long.message
    assert refusal(gql, RATE, s=session, m=answer["id"], r=None, n="why").code == "BAD_USER_INPUT"
    assert refusal(gql, FEEDBACK, w=w, first=101).code == "BAD_USER_INPUT"
    assert gql(FEEDBACK, w=w)["feedback"]["up"] == gql(FEEDBACK, w=w)["feedback"]["down"] == 0


def test_the_feedback_list_is_paginated_newest_first(gql: GQL) -> None:
    w = published_workflow(gql, EXTRACTIVE)
    session = start_chat(gql, w)
    answers = ask(gql, session, [f"Question number {n}?" for n in range(5)])
    for n, answer in enumerate(answers):
        gql(RATE, s=session, m=answer["id"], r="DOWN", n=f"note {n}")
    first = gql(FEEDBACK, w=w, first=2)["feedback"]
    rest = gql(FEEDBACK, w=w, first=2, offset=2)["feedback"]
    last = gql(FEEDBACK, w=w, first=2, offset=4)["feedback"]
    notes = [r["feedback"]["note"] for page in (first, rest, last) for r in page["ratedDown"]]
    assert notes == ["note 4", "note 3", "note 2", "note 1", "note 0"]
    assert [p["hasMore"] for p in (first, rest, last)] == [True, True, False]
    assert first["down"] == 5


@pytest.fixture
def network_postgres(postgres_url: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(tmp_path / "data", postgres_url)
    with TestClient(create_app(settings)) as client:
        yield client


def test_who_may_rate_and_read_feedback_on_postgres(network_postgres: TestClient) -> None:
    client = network_postgres
    owner = GQL(client)  # the local owner: admin of the default workspace
    w = published_workflow(owner, EXTRACTIVE)
    session = start_chat(owner, w)
    [answer] = ask(owner, session, ["What is the warranty?"])

    # a viewer chats, so a viewer rates their own answers; the admin sees every rating
    register(client, "vic@example.com")
    invite = owner(
        "mutation($ws: UUID!) { inviteMember(workspaceId: $ws, role: VIEWER) { token } }",
        ws=str(DEFAULT_WORKSPACE),
    )["inviteMember"]["token"]
    viewer = signed_in_gql(client, "vic@example.com")
    viewer("mutation($t: String!) { acceptInvitation(token: $t) { id } }", t=invite)
    theirs = start_chat(viewer, w)
    [their_answer] = ask(viewer, theirs, ["Who makes it?"])
    assert (
        viewer(RATE, s=theirs, m=their_answer["id"], r="DOWN", n="vague")["rateAnswer"]["rating"]
        == "DOWN"
    )
    # the owner's session is not the viewer's: it does not exist for them
    assert refusal(viewer, RATE, s=session, m=answer["id"], r="UP").code == "NOT_FOUND"
    owner(RATE, s=session, m=answer["id"], r="UP")
    assert viewer(FEEDBACK, w=w)["feedback"] | {"ratedDown": None} == {
        "up": 0,
        "down": 1,
        "offset": 0,
        "hasMore": False,
        "ratedDown": None,
    }
    everyone = owner(FEEDBACK, w=w)["feedback"]
    assert (everyone["up"], everyone["down"]) == (1, 1)
    [down] = everyone["ratedDown"]
    assert (down["question"], down["feedback"]["actorName"]) == ("Who makes it?", "vic@example.com")

    # a token without the chat scope may not rate
    token = owner(
        """mutation($ws: UUID!) { createApiToken(workspaceId: $ws, name: "r", scopes: [READ])
             { token } }""",
        ws=str(DEFAULT_WORKSPACE),
    )["createApiToken"]["token"]
    reader = AsPrincipal(client, token)
    assert refusal(reader, RATE, s=session, m=answer["id"], r="DOWN").code == "FORBIDDEN"
    assert refusal(reader, FEEDBACK, w=w).code == "FORBIDDEN"

    # another workspace's people: the stack and the session do not exist for them
    register(client, "oz@example.com")
    stranger = signed_in_gql(client, "oz@example.com")
    stranger('mutation { createWorkspace(name: "Elsewhere") { id } }')
    assert refusal(stranger, RATE, s=session, m=answer["id"], r="DOWN").code == "NOT_FOUND"
    assert refusal(stranger, FEEDBACK, w=w).code == "NOT_FOUND"
    assert owner(FEEDBACK, w=w)["feedback"]["down"] == 1  # nothing they tried was recorded


def test_the_feedback_read_table_holds_the_last_rating_of_each_answer(tmp_path: Path) -> None:
    """Property: whatever ratings are given, changed and withdrawn, in any order, the
    messages and the stack's feedback show each answer's last rating (none once withdrawn)."""
    with TestClient(create_app(make_settings(tmp_path / "data", None))) as client:
        gql = GQL(client)
        w = published_workflow(gql, EXTRACTIVE)
        session = start_chat(gql, w)
        answers = [a["id"] for a in ask(gql, session, ["One?", "Two?", "Three?"])]
        model: dict[str, tuple[str, str] | None] = {}

        @settings(max_examples=25)
        @given(
            st.lists(
                st.tuples(
                    st.sampled_from(answers),
                    st.sampled_from(["UP", "DOWN", None]),
                    st.sampled_from(["", "wrong", "too short"]),
                ),
                min_size=1,
                max_size=6,
            )
        )
        def ratings_given(steps: list[tuple[str, str | None, str]]) -> None:
            for answer, rating, note in steps:
                note = note if rating else ""
                gql(RATE, s=session, m=answer, r=rating, n=note)
                model[answer] = None if rating is None else (rating, note)
            messages = gql(RATINGS, s=session)["chatSession"]["messages"]
            shown = {
                m["id"]: (m["feedback"]["rating"], m["feedback"]["note"]) if m["feedback"] else None
                for m in messages
                if m["role"] == "ASSISTANT"
            }
            assert shown == {a: model.get(a) for a in answers}
            feedback = gql(FEEDBACK, w=w)["feedback"]
            ratings = [r[0] for r in model.values() if r is not None]
            assert (feedback["up"], feedback["down"]) == (
                ratings.count("UP"),
                ratings.count("DOWN"),
            )
            assert {
                (r["feedback"]["messageId"], r["feedback"]["note"]) for r in feedback["ratedDown"]
            } == {(a, r[1]) for a, r in model.items() if r is not None and r[0] == "DOWN"}

        ratings_given()

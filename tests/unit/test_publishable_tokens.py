"""Publishable tokens (an embedded chat's, seen in web pages): the sites they are for, as
browsers send them, and what they may do, which is chat with their one stack and nothing else."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidCommand
from domain.policy import Action, Principal, can, permits
from domain.workspace import Scope, TokenGrant, Workspace, parse_origin, parse_origins

STACK = str(uuid4())


@pytest.mark.parametrize(
    ("given_origin", "origin"),
    [
        ("https://shop.example.com", "https://shop.example.com"),
        ("https://shop.example.com/", "https://shop.example.com"),
        ("  HTTPS://Shop.Example.COM  ", "https://shop.example.com"),
        ("https://shop.example.com:443", "https://shop.example.com"),
        ("http://localhost:80", "http://localhost"),
        ("http://127.0.0.1:5173", "http://127.0.0.1:5173"),
        ("https://[::1]:8443", "https://[::1]:8443"),
    ],
)
def test_an_origin_is_kept_as_a_browser_sends_it(given_origin: str, origin: str) -> None:
    assert parse_origin(given_origin) == origin


@pytest.mark.parametrize(
    "value",
    [
        "shop.example.com",
        "ftp://shop.example.com",
        "https://",
        "https://shop.example.com/help",
        "https://shop.example.com?x=1",
        "https://shop.example.com#top",
        "https://ada:pw@shop.example.com",
        "https://shop.example.com:99999",
        "*",
        "null",
        "https://shop\x00.example.com",
        "https://shop example.com",
        "https://bücher.example",
        "https://" + "a" * 300 + ".example",
    ],
)
def test_anything_but_an_origin_is_refused(value: str) -> None:
    with pytest.raises(InvalidCommand):
        parse_origin(value)


def test_origins_are_listed_once_sorted_and_at_least_one() -> None:
    assert parse_origins(["https://b.example", "https://a.example/", "https://b.example"]) == (
        "https://a.example",
        "https://b.example",
    )
    with pytest.raises(InvalidCommand):
        parse_origins([])
    with pytest.raises(InvalidCommand):
        parse_origins([f"https://s{n}.example" for n in range(21)])


def test_issuing_a_publishable_token_records_its_sites() -> None:
    workspace = Workspace.create("Team", "ada", "ada")
    workspace.issue_token(
        "tok-1", "site", frozenset({Scope.CHAT}), STACK, None, "ada", ("https://Shop.example.com/",)
    )
    grant = workspace.tokens["tok-1"]
    assert grant.publishable and grant.allowed_origins == ("https://shop.example.com",)
    issued = workspace.collect_events()[-1]
    assert type(issued).__name__ == "ApiTokenIssued"
    assert issued.allowed_origins == ["https://shop.example.com"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("scopes", "stack"),
    [(frozenset({Scope.CHAT}), None), (frozenset({Scope.CHAT, Scope.READ}), STACK)],
    ids=["chat", "chat-read-one-stack"],  # not the random STACK: xdist's workers must agree
)
def test_a_publishable_token_is_for_one_stack_and_only_chats(
    scopes: frozenset[Scope], stack: str | None
) -> None:
    workspace = Workspace.create("Team", "ada", "ada")
    with pytest.raises(InvalidCommand):
        workspace.issue_token("tok-1", "site", scopes, stack, None, "ada", ("https://a.example",))
    assert workspace.tokens == {}


def test_a_token_issued_before_embeds_replays_as_an_ordinary_one() -> None:
    workspace = Workspace.create("Team", "ada", "ada")
    workspace.issue_token("tok-1", "ci", frozenset({Scope.READ}), None, None, "ada")
    created, issued = workspace.collect_events()
    older = replace(issued)  # as stored before the field existed: without allowed_origins
    object.__delattr__(older, "allowed_origins")
    replayed = older.mutate(created.mutate(None))
    assert replayed is not None
    grant = replayed.tokens["tok-1"]
    assert grant.allowed_origins is None and not grant.publishable
    assert grant == TokenGrant("tok-1", "ci", (Scope.READ,), None, None, "ada")


def publishable(stack: str = STACK, workspace: Workspace | None = None) -> Principal:
    return Principal(
        token_id=str(uuid4()),
        workspace_id=str((workspace or WORKSPACE).id),
        scopes=frozenset({Scope.CHAT}),
        stack_id=stack,
        origins=frozenset({"https://shop.example.com"}),
    )


WORKSPACE = Workspace.create("Team", "ada", "ada")


@given(action=st.sampled_from(list(Action)), stack=st.sampled_from([STACK, str(uuid4()), None]))
def test_a_publishable_token_only_chats_with_its_stack(action: Action, stack: str | None) -> None:
    principal = publishable()
    allowed = can(principal, action, WORKSPACE, stack)
    assert allowed == (action is Action.CHAT and stack == STACK)
    assert permits(principal, action) == (action is Action.CHAT)


def test_an_ordinary_chat_token_may_still_list_its_chats() -> None:
    chat = Principal(token_id="t", workspace_id=str(WORKSPACE.id), scopes=frozenset({Scope.CHAT}))
    assert permits(chat, Action.ACCOUNT) and can(chat, Action.LIST_CHATS, WORKSPACE, STACK)
    assert not can(publishable(), Action.LIST_CHATS, WORKSPACE, STACK)

"""The User aggregate and the rules for emails and passwords."""

from __future__ import annotations

import pytest

from domain.account import User, check_password, normalize_email
from domain.errors import InvalidCommand


def test_a_registered_users_email_is_kept_in_lower_case() -> None:
    user = User.register("  Ada@Example.COM ", "Ada", False, "console")
    assert (user.email, user.name, user.admin, user.disabled) == (
        "ada@example.com",
        "Ada",
        False,
        False,
    )


def test_what_is_not_an_email_is_refused() -> None:
    for value in ("", "ada", "ada@", "@example.com", "a b@example.com", "a@b", "x" * 250 + "@e.io"):
        with pytest.raises(InvalidCommand):
            normalize_email(value)


def test_passwords_need_ten_characters_and_no_nul() -> None:
    check_password("correct horse")
    for value in ("short", "ten chars\x00!", "x" * 1025):
        with pytest.raises(InvalidCommand):
            check_password(value)


def test_disabling_twice_records_one_event_and_enabling_undoes_it() -> None:
    user = User.register("ada@example.com", "Ada", True, "console")
    user.disable("console")
    user.disable("console")
    user.enable("console")
    names = [type(e).__name__ for e in user.collect_events()]
    assert names == ["UserRegistered", "UserDisabled", "UserEnabled"]
    assert not user.disabled


def test_a_password_change_is_an_event_without_the_password() -> None:
    user = User.register("ada@example.com", "Ada", False, "console")
    user.change_password("ada")
    changed = user.collect_events()[-1]
    assert type(changed).__name__ == "PasswordChanged"
    assert set(changed.__dict__) == {"originator_id", "originator_version", "timestamp", "actor"}


def test_linking_a_provider_account_twice_records_one_event_naming_it() -> None:
    user = User.register("ada@example.com", "Ada", False, "console")
    user.link_identity("https://idp.example.com", "ada-1", "ada")
    user.link_identity("https://idp.example.com", "ada-1", "ada")
    user.link_identity("https://idp.example.com", "ada-2", "sso")
    linked = [e for e in user.collect_events() if type(e).__name__ == "IdentityLinked"]
    assert [(e.issuer, e.subject, e.actor) for e in linked] == [
        ("https://idp.example.com", "ada-1", "ada"),
        ("https://idp.example.com", "ada-2", "sso"),
    ]
    assert user.identities == [
        ["https://idp.example.com", "ada-1"],
        ["https://idp.example.com", "ada-2"],
    ]

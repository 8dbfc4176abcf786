"""Which user a provider account signs in as, against a model of the rules (property test),
on the production wiring: the User aggregate, the credentials and identities tables. The
provider is the one thing faked: it vouches for whatever identity the example draws (the
protocol itself is tested against a real provider in tests/integration)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.account.ports import ExternalIdentity, LoginStart
from application.account.single_sign_on import SignOnPolicy, SignOnRefused, SingleSignOn
from application.account.users import TooBusy
from infrastructure.accounts.stores import SqlCredentialStore, SqlIdentityStore
from infrastructure.ratelimit import LimitsRateLimiter
from interfaces.bootstrap import Services

PASSWORD = "correct horse battery"


class VouchingProvider:
    """A provider that says the next identity it is given signed in."""

    name = "Test IdP"

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.next: ExternalIdentity | None = None

    def begin(self, redirect_uri: str) -> LoginStart:
        return LoginStart(f"{self.issuer}/auth", "flow")

    def finish(
        self, flow: str | None, params: dict[str, str], redirect_uri: str
    ) -> ExternalIdentity:
        assert self.next is not None
        return self.next


def single_sign_on(app: Services, provider: VouchingProvider, sign_up: bool) -> SingleSignOn:
    accounts = app.accounts
    return SingleSignOn(
        provider,
        accounts.users,
        SqlCredentialStore(app.read_db),
        SqlIdentityStore(app.read_db),
        accounts.sessions,
        accounts.workspaces,
        LimitsRateLimiter("10000/minute", None, f"t{uuid.uuid4().hex}"),
        lambda: datetime.now(UTC),
        SignOnPolicy(sign_up=sign_up),
    )


attempts = st.lists(
    st.tuples(
        st.sampled_from(["s1", "s2", "s3"]),  # the provider account
        st.sampled_from(["ada", "bob", "cy", None]),  # its email's name, if it gives one
        st.booleans(),  # whether the provider verified that email
    ),
    max_size=8,
)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    registered=st.sets(st.sampled_from(["ada", "bob", "cy"])),
    disabled=st.sets(st.sampled_from(["ada", "bob", "cy"])),
    sign_up=st.booleans(),
    tries=attempts,
)
def test_sign_ins_follow_the_rules(
    app: Services, registered: set[str], disabled: set[str], sign_up: bool, tries: list
) -> None:
    domain = f"{uuid.uuid4().hex[:12]}.example"  # each example: its own people and provider
    issuer = f"https://idp.{domain}"
    email = {name: f"{name}@{domain}" for name in ("ada", "bob", "cy")}
    users = app.accounts.users
    users.register(f"root@{domain}", PASSWORD, "", "tests")  # the first admin is set up
    ids = {name: users.register(email[name], PASSWORD, name, "tests").id for name in registered}
    for name in disabled & registered:
        users.disable(email[name], "tests")
    provider = VouchingProvider(issuer)
    sso = single_sign_on(app, provider, sign_up)

    linked: dict[str, str] = {}  # the model: provider account → the name of its user
    for subject, name, verified in tries:
        provider.next = ExternalIdentity(issuer, subject, name and email[name], verified, "")
        expected: str | None
        if subject in linked:
            expected = linked[subject]
        elif name is None or not verified:
            expected = None
        elif name in ids or sign_up:
            expected = name
        else:
            expected = None
        if expected is not None and expected in disabled & registered:
            expected = None  # a disabled user is refused, linked or not
        try:
            result = sso.finish("flow", {}, "cb", "client")
        except SignOnRefused:
            assert expected is None, (subject, name, verified)
            continue
        assert expected is not None, (subject, name, verified)
        assert result.user.email == email[expected]
        ids.setdefault(expected, result.user.id)
        linked[subject] = expected

    # every link is an event of its user, and the reverse
    store = SqlIdentityStore(app.read_db)
    for subject, name in linked.items():
        assert str(store.user_of(issuer, subject)) == str(ids[name])
    for name, user_id in ids.items():
        user = users.get(str(user_id))
        assert user is not None
        mine = sorted(s for s, n in linked.items() if n == name)
        assert sorted(s for i, s in user.identities if i == issuer) == mine
    for subject in {"s1", "s2", "s3"} - set(linked):
        assert store.user_of(issuer, subject) is None


def test_a_link_whose_event_cannot_be_saved_is_undone(
    app: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = app.accounts.users
    ada = users.register("ada@example.com", PASSWORD, "Ada", "tests")
    provider = VouchingProvider("https://idp.example.com")
    provider.next = ExternalIdentity(provider.issuer, "s1", "ada@example.com", True, "")
    sso = single_sign_on(app, provider, sign_up=False)

    def too_busy(*args: object) -> None:
        raise TooBusy("busy")

    with monkeypatch.context() as patch:
        patch.setattr(users, "link_identity", too_busy)
        with pytest.raises(TooBusy):
            sso.finish("flow", {}, "cb", "client")
    assert SqlIdentityStore(app.read_db).user_of(provider.issuer, "s1") is None

    assert sso.finish("flow", {}, "cb", "client").user.id == ada.id  # and later it links
    assert str(SqlIdentityStore(app.read_db).user_of(provider.issuer, "s1")) == ada.id

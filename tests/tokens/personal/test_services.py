import datetime
import hashlib

import pytest
from django.utils import timezone

from accounts.errors import Refused
from tests.factories import issue, membership
from tokens.models import AccessToken, AuditEvent
from tokens.one_time import SecretAlreadyShown
from tokens.personal import services

pytestmark = pytest.mark.django_db


def _policy(org, alice, **rules):
    defaults = {
        "require_expiry": False,
        "max_lifetime_days": None,
        "max_live_tokens_per_member": None,
    }
    return services.set_token_policy(organization=org, by=alice, **{**defaults, **rules})


def test_database_holds_only_the_digest_and_last_four(dev):
    token, secret = issue(dev)
    row = AccessToken.objects.values("token", "token_checksum", "last4").get(pk=token.pk)
    assert row == {
        "token": "",
        "token_checksum": hashlib.sha256(secret.encode()).hexdigest(),
        "last4": secret[-4:],
    }


def test_secret_is_never_shown_twice(dev):
    issued = services.issue_personal_token(issuer=membership(dev), name="x", scopes=["read.me"])
    issued.secret.reveal()
    with pytest.raises(SecretAlreadyShown):
        issued.secret.reveal()
    assert "kw_pat_" not in repr(issued.secret)


def test_nobody_grants_beyond_their_own_role(agent):
    with pytest.raises(Refused) as refused:
        issue(agent, scopes=["read.tokens"])
    assert refused.value.code == "scope_not_allowed"
    assert not AccessToken.objects.exists()


def test_role_bundle_names_expand_to_fine_scopes(alice):
    token, _ = issue(alice, scopes=["admin"])
    assert "read.tokens" in token.scope.split() and "admin" not in token.scope.split()


def test_policy_can_require_an_expiry(org, alice, dev):
    _policy(org, alice, require_expiry=True)
    with pytest.raises(Refused) as refused:
        issue(dev)
    assert refused.value.code == "expiry_required"


def test_policy_caps_the_lifetime(org, alice, dev):
    _policy(org, alice, max_lifetime_days=30)
    with pytest.raises(Refused) as refused:
        issue(dev, expires_at=timezone.now() + datetime.timedelta(days=31))
    assert refused.value.code == "expiry_too_far"
    token, _ = issue(dev, expires_at=timezone.now() + datetime.timedelta(days=29))
    assert token.pk


def test_expiry_in_the_past_is_refused(dev):
    with pytest.raises(Refused) as refused:
        issue(dev, expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert refused.value.code == "expiry_in_past"


def test_policy_limits_live_tokens_per_member(org, alice, dev):
    _policy(org, alice, max_live_tokens_per_member=2)
    issue(dev)
    revoked, _ = issue(dev)
    services.revoke_token(token=revoked, by=dev)
    issue(dev)
    with pytest.raises(Refused) as refused:
        issue(dev)
    assert refused.value.code == "token_limit_reached"
    assert AccessToken.objects.personal().live().filter(user=dev).count() == 2


def test_every_operation_writes_an_audit_event(dev):
    token, _ = issue(dev)
    services.rename_token(token=token, name="renamed", by=dev, ip="10.0.0.9")
    issued = services.rotate_token(token=token, grace="1h", by=dev)
    services.revoke_token(token=issued.credential, by=dev)
    events = list(AuditEvent.objects.order_by("id").values_list("action", "credential_id"))
    assert events == [
        ("issued", token.pk),
        ("renamed", token.pk),
        ("rotated", token.pk),
        ("revoked", issued.credential.pk),
        ("revoked", token.pk),  # its previous secret, still in the overlap, goes with it
    ]
    renamed = AuditEvent.objects.get(action="renamed")
    assert renamed.ip == "10.0.0.9" and renamed.credential_last4 == token.last4


def test_rotation_keeps_name_scopes_owner_and_expiry(dev):
    expires = timezone.now() + datetime.timedelta(days=30)
    token, _ = issue(dev, scopes=["read.me", "read.tokens"], expires_at=expires, name="deploy")
    new = services.rotate_token(token=token, grace="7d", by=dev).credential
    assert (new.name, new.scope, new.membership_id, new.expires) == (
        "deploy",
        token.scope,
        token.membership_id,
        expires,
    )
    token.refresh_from_db()
    assert token.revoked_at > timezone.now() + datetime.timedelta(days=6)


def test_a_rotated_token_cannot_be_rotated_again(dev):
    token, _ = issue(dev)
    services.rotate_token(token=token, grace="1h", by=dev)
    with pytest.raises(Refused) as refused:
        services.rotate_token(token=token, grace="1h", by=dev)
    assert refused.value.code == "token_revoked"


def test_unknown_grace_period_is_refused(dev):
    token, _ = issue(dev)
    with pytest.raises(Refused) as refused:
        services.rotate_token(token=token, grace="forever", by=dev)
    assert refused.value.code == "invalid_grace_period"


def test_empty_name_is_refused_and_nothing_is_written(dev):
    with pytest.raises(Refused):
        issue(dev, name="   ")
    assert not AccessToken.objects.exists() and not AuditEvent.objects.exists()


def test_scopes_beyond_a_service_account_owner_are_refused_naming_the_owner(alice, bot):
    with pytest.raises(Refused) as refused:
        services.issue_personal_token(
            issuer=membership(alice), owner=membership(bot), name="x", scopes=["delete.users"]
        )
    assert "bot@acme.test" in refused.value.message

"""The table of kinds (tokens.kinds): every shared feature reads it, so a kind missing from it,
or described twice, would silently drop out of the review, leak reports, notices or inventory."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from tokens import kinds
from tokens.models import CredentialKind, Kind

CREDENTIALS = {
    CredentialKind.PERSONAL,
    CredentialKind.API_KEY,
    CredentialKind.OAUTH_CLIENT,
    CredentialKind.OAUTH,
    CredentialKind.LOGIN,
}


def test_every_credential_kind_is_described_once_and_no_other_subject_is():
    assert {kind.name for kind in kinds.every()} == CREDENTIALS
    for subject in set(CredentialKind) - CREDENTIALS:  # members, policies, webhooks…
        assert kinds.get(subject) is None


def test_every_kind_kept_as_an_access_token_is_one_the_table_knows():
    assert {str(kind) for kind in Kind} <= {kind.name for kind in kinds.every()}


@pytest.mark.parametrize("feature", ["inventory", "revoke_leaked"])
def test_every_kind_takes_part_in_the_features_all_kinds_share(feature):
    missing = [k.name for k in kinds.every() if getattr(k, feature) is None]
    # OAuth grants are revoked through their client, and their secrets are oauth's own.
    assert missing in ([], ["oauth"])


def test_the_review_can_revoke_every_kind_a_member_can_hold():
    for kind in kinds.where("held_by"):
        assert kind.revoke is not None, f"{kind.name} is reviewed but cannot be revoked"


def test_a_kind_described_twice_is_refused(monkeypatch):
    monkeypatch.setattr(kinds, "_kinds", {})
    monkeypatch.setattr(kinds, "TABLE", ("tokens.personal", "tokens.personal"))
    with pytest.raises(ImproperlyConfigured, match="personal"):
        kinds.load()

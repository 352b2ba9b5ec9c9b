import pytest

from accounts import services
from accounts.models import Membership, Role
from tests.browser.conftest import log_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_an_invited_person_accepts_on_their_org_page_and_lands_in_the_new_org(
    page, alice, org, mallory, other_org, transactional_db
):
    services.invite_member(
        organization=org, email=mallory.email, role=Role.AGENT, by=alice, by_role=Role.ADMIN
    )

    log_in(page, mallory.email, PASSWORD)
    invitations = page.get_by_role("region", name="Invitations")
    assert "Acme invites you as Agent" in invitations.inner_text()
    invitations.get_by_role("button", name="Accept").click()
    page.wait_for_url(f"**/orgs/{org.public_id}/")

    assert page.get_by_role("heading", name="Acme").is_visible()
    assert Membership.objects.get(user=mallory, organization=org).role == Role.AGENT
    assert page.get_by_role("region", name="Invitations").count() == 0

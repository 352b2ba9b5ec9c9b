import pytest

from accounts.models import Membership, Organization, Role
from tests.browser.conftest import log_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_admin_logs_in_switches_organization_and_reads_the_org_id(
    page, alice, org, transactional_db
):
    labs = Organization.objects.create(name="Acme Labs", slug="acme-labs", group=org.group)
    Membership.objects.create(user=alice, organization=labs, role=Role.ADMIN)

    log_in(page, "alice@acme.test", PASSWORD)
    assert page.locator("#org-id").inner_text() in {org.public_id, labs.public_id}

    page.get_by_label("Organization").select_option(label="Acme Labs")
    page.wait_for_url(f"**/orgs/{labs.public_id}/")
    assert page.locator("#org-id").inner_text() == labs.public_id
    assert page.get_by_role("heading", name="Acme Labs").is_visible()

    page.get_by_label("Organization").select_option(label="Acme")
    page.wait_for_url(f"**/orgs/{org.public_id}/")
    assert page.locator("#org-id").inner_text() == org.public_id
    assert (
        page.get_by_role("navigation", name="Sections")
        .get_by_role("link", name="Admin")
        .is_visible()
    )

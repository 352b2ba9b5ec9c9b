import pytest
from django.urls import reverse

from tests.factories import login

pytestmark = pytest.mark.django_db


def _sections(client, org):
    response = client.get(reverse("org_home", args=[org.public_id]))
    assert response.status_code == 200
    html = response.content.decode()
    return ("/developer/" in html, "/admin/members/" in html)


def test_admin_sees_developer_and_admin_sections(client, alice, org):
    login(client, alice)
    assert _sections(client, org) == (True, True)


def test_agent_sees_neither_developer_nor_admin(client, agent, org):
    login(client, agent)
    assert _sections(client, org) == (False, False)


def test_developer_sees_developer_but_not_admin(client, dev, org):
    login(client, dev)
    assert _sections(client, org) == (True, False)


def test_agent_gets_403_on_developer_pages(client, agent, org):
    login(client, agent)
    assert client.get(reverse("developer_home", args=[org.public_id])).status_code == 403


def test_developer_gets_403_on_admin_pages(client, dev, org):
    login(client, dev)
    assert client.get(reverse("admin_members", args=[org.public_id])).status_code == 403


@pytest.mark.parametrize("name", ["org_home", "developer_home", "admin_members"])
def test_outsider_gets_404_on_every_page_of_the_org(client, mallory, org, name):
    login(client, mallory)
    assert client.get(reverse(name, args=[org.public_id])).status_code == 404


def test_anonymous_is_sent_to_login(client, org):
    response = client.get(reverse("org_home", args=[org.public_id]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_org_page_shows_the_org_id(client, alice, org):
    login(client, alice)
    response = client.get(reverse("org_home", args=[org.public_id]))
    assert org.public_id.startswith("org_")
    assert org.public_id in response.content.decode()


def test_switcher_refuses_an_org_the_user_is_not_in(client, alice, other_org):
    login(client, alice)
    response = client.get(reverse("switch_org"), {"org": other_org.public_id})
    assert response.status_code == 404

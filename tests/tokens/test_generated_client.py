"""A Python client generated from /api/schema/ by openapi-python-client imports and works.

The client is generated once per module from the document as it is served, with
--fail-on-warning, into a temporary package; the tests then drive pytest-django's live
server through the generated functions only, and read the parsed models they return.
"""

import importlib
import pkgutil
import subprocess
import sys
from datetime import datetime

import pytest
from django.test import Client as DjangoClient

from chats.models import Conversation
from tests.factories import PASSWORD
from tokens.models import AccessToken

pytestmark = pytest.mark.slow

PACKAGE = "keyward_generated_client"
# The generator formats its output with ruff when it can find it; the tests need none of that.
CONFIG = "post_hooks: []\n"


@pytest.fixture(scope="module")
def generated(tmp_path_factory, django_db_setup, django_db_blocker):
    """The generated package, imported; removed from sys.modules afterwards."""
    root = tmp_path_factory.mktemp("generated")
    with django_db_blocker.unblock():
        response = DjangoClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    (root / "schema.json").write_bytes(response.content)
    (root / "config.yaml").write_text(CONFIG)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(root / "schema.json"),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(root / "config.yaml"),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def operation(generated, name):
    return importlib.import_module(f"{generated.__name__}.api.v1.{name}")


def model(generated, name):
    return getattr(importlib.import_module(f"{generated.__name__}.models"), name)


def log_in(generated, live_server, email):
    client = generated.Client(base_url=live_server.url, raise_on_unexpected_status=True)
    body = model(generated, "TokenRequestRequest")(email=email, password=PASSWORD)
    return operation(generated, "auth_token").sync_detailed(client=client, body=body)


def test_every_generated_module_imports(generated):
    names = [
        info.name for info in pkgutil.walk_packages(generated.__path__, f"{generated.__name__}.")
    ]
    assert len(names) > 100
    for name in names:
        importlib.import_module(name)


def test_generated_client_logs_in(generated, live_server, alice):
    response = log_in(generated, live_server, "alice@acme.test")
    assert response.status_code == 200
    assert isinstance(response.parsed, model(generated, "TokenResponse"))
    assert response.parsed.token_type == "Bearer"
    assert response.parsed.refresh_token.startswith("kw_rt_")
    assert isinstance(response.parsed.expires_at, datetime)


def test_generated_client_creates_a_personal_token_with_a_login_token(
    generated, live_server, alice
):
    login = log_in(generated, live_server, "alice@acme.test").parsed
    client = generated.AuthenticatedClient(base_url=live_server.url, token=login.token)
    body = model(generated, "TokenCreateRequest")(name="generated client", scopes=["read.chats"])
    response = operation(generated, "v1_tokens_create").sync_detailed(client=client, body=body)
    assert response.status_code == 201, response.content
    assert AccessToken.objects.filter(name="generated client", user=alice).count() == 1
    assert isinstance(response.parsed, model(generated, "NewToken"))
    assert response.parsed.token.startswith("kw_pat_")
    assert response.parsed.scopes == ["read.chats"]


def test_generated_client_lists_conversations_with_the_token_it_created(
    generated, live_server, alice, acme
):
    login = log_in(generated, live_server, "alice@acme.test").parsed
    as_alice = generated.AuthenticatedClient(base_url=live_server.url, token=login.token)
    body = model(generated, "TokenCreateRequest")(name="reader", scopes=["read.chats"])
    token = operation(generated, "v1_tokens_create").sync(client=as_alice, body=body).token
    client = generated.AuthenticatedClient(base_url=live_server.url, token=token)
    response = operation(generated, "v1_conversations_list").sync_detailed(client=client)
    assert response.status_code == 200, response.content
    page = response.parsed
    assert isinstance(page, model(generated, "PaginatedConversationList"))
    assert page.count == Conversation.objects.filter(organization__slug="acme").count() > 0
    assert {type(item).__name__ for item in page.results} == {"Conversation"}

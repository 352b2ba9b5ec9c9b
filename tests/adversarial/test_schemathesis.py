"""Schemathesis over every operation of /api/schema/, as an all-scope admin and anonymously.

Each generated call runs inside a savepoint that is rolled back afterwards, so a destructive
case (deleting the caller's own token, removing the admin from the organization) cannot
starve the cases after it: every case starts from the same Acme, Globex and Acme Labs.
The seed is fixed (derandomize) so CI replays the same requests.
"""

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.handlers import WSGIHandler
from tests.factories import connection_kept

from .conftest import all_scope_token, own_credentials

pytestmark = pytest.mark.django_db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
# Examples per operation and per caller (the coverage phase adds its own cases on top).
EXAMPLES = 10
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
calls = {"all-scope": 0, "anonymous": 0}


@pytest.fixture
def api_schema(db):
    """The document as a client fetches it, served by the WSGI handler Keyward is served by."""
    with connection_kept():
        return schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler())


@pytest.fixture
def admin_headers(client, alice, acme, labs, globex):
    """Alice's all-scope personal token, and an API key and OAuth client of hers to aim at."""
    headers = {"Authorization": f"Bearer {all_scope_token(client, 'alice@acme.test')['token']}"}
    own_credentials(client, {"HTTP_AUTHORIZATION": headers["Authorization"]})
    return headers


schema = schemathesis.pytest.from_fixture("api_schema")


def call_in_savepoint(case, headers, caller):
    with connection_kept(), transaction.atomic():
        calls[caller] += 1
        case.call_and_validate(headers=headers, checks=CHECKS)
        transaction.set_rollback(True)


@schema.parametrize()
@SETTINGS
def test_every_operation_as_an_all_scope_admin(case, admin_headers):
    call_in_savepoint(case, admin_headers, "all-scope")


@schema.parametrize()
@SETTINGS
def test_every_operation_anonymously(case, alice, acme, globex):
    call_in_savepoint(case, {}, "anonymous")


def test_zz_at_least_3000_requests_were_generated():
    """Runs after the two above (file order); meaningless when they were deselected."""
    total = sum(calls.values())
    if not calls["all-scope"] or not calls["anonymous"]:
        pytest.skip("the schemathesis tests did not run in this session")
    print(f"schemathesis requests: {calls}")
    assert total >= 3000, calls

"""portal.wsgi's handler gives the server exactly the headers Django's own handler would."""

import io

import pytest
from django.core.handlers.wsgi import WSGIHandler as DjangoWSGIHandler

from portal.handlers import WSGIHandler
from tests.factories import connection_kept, issue

pytestmark = pytest.mark.django_db


def _steady(name, value):
    """A header as two answers to the same request share it: a cookie's name (a portal page's
    CSRF cookie is new each time), not its value; a time's presence (a second may pass)."""
    if name.lower() == "set-cookie":
        return name, value.strip().partition("=")[0]
    if name.lower() in ("date", "expires", "last-modified"):
        return name, "…"
    return name, value


def _served(handler, path, **headers):
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "testserver",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        **headers,
    }
    given = {}

    def start_response(status, response_headers, exc_info=None):
        given["status"], given["headers"] = status, response_headers

    with connection_kept():
        response = handler(environ, start_response)
        body = b"".join(response)
        response.close()
    return given["status"], given["headers"], body


@pytest.mark.parametrize(
    ("path", "authorized", "status"),
    [
        ("/api/v1/me", True, "200 OK"),  # with the scope headers
        ("/api/v1/me", False, "401 Unauthorized"),  # WWW-Authenticate
        ("/api/v1/no-such-thing", True, "404 Not Found"),
        ("/login/", False, "200 OK"),  # a portal page: a cookie besides the headers
    ],
)
def test_the_server_is_given_the_headers_djangos_handler_gives(dev, path, authorized, status):
    _token, secret = issue(dev, scopes=["read.me"])
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if authorized else {}
    ours = _served(WSGIHandler(), path, **headers)
    django = _served(DjangoWSGIHandler(), path, **headers)
    assert ours[0] == django[0] == status
    assert [_steady(*h) for h in ours[1]] == [_steady(*h) for h in django[1]]
    assert len(ours[1]) >= 5
    assert all(type(h) is tuple and len(h) == 2 for h in ours[1])
    if path.startswith("/api/"):  # a portal page holds its CSRF token
        assert ours[2] == django[2]


def test_the_project_is_served_by_its_own_handler():
    from portal import wsgi

    assert type(wsgi.application) is WSGIHandler

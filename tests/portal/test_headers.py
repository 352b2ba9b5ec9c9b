"""`request.headers` (portal.headers.Headers) answers exactly as Django's HttpHeaders, and a
request whose readers each ask for one header never builds the whole mapping."""

import pytest
from django.http.request import HttpHeaders
from django.test import Client

from portal.headers import Headers
from tests.factories import issue

ENVIRONS = [
    {},
    {
        "HTTP_ACCEPT": "application/json",
        "HTTP_AUTHORIZATION": "Bearer kw_pat_x",
        "HTTP_X_FORWARDED_FOR": "203.0.113.9",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "2",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": None,
        "QUERY_STRING": "",
        "HTTP_": "a header with an empty name",
    },
    # A server that gives Content-Type under both names: the later one wins, as in Django.
    {"CONTENT_TYPE": "text/plain", "HTTP_CONTENT_TYPE": "application/json"},
    {"HTTP_CONTENT_TYPE": "application/json", "CONTENT_TYPE": "text/plain"},
    # A name outside ASCII (latin-1 from the server).
    {"HTTP_X_CAF\u00c9": "latte", "HTTP_X_SS": "two esses"},
]

NAMES = [
    "Accept",
    "accept",
    "ACCEPT",
    "Authorization",
    "X-Forwarded-For",
    "x_forwarded_for",
    "X_FORWARDED-FOR",
    "Content-Type",
    "content_type",
    "Content-Length",
    "Remote-Addr",  # REMOTE_ADDR is not a header
    "Query-String",
    "wsgi.input",
    "",
    "Origin",
    "X-Caf\u00e9",
    "X-CAF\u00c9",
    "x-\u00df",  # upper-cases to X-SS, lower-cases to itself: not X-SS's header
    "x-ss",
]


@pytest.mark.parametrize("environ", ENVIRONS)
def test_headers_answer_as_djangos(environ):
    ours, django = Headers(environ), HttpHeaders(environ)
    for name in NAMES:
        assert (name in ours) == (name in django), name
        assert ours.get(name) == django.get(name), name
        assert ours.get(name, "absent") == django.get(name, "absent"), name
        if name in django:
            assert ours[name] == django[name], name
        else:
            with pytest.raises(KeyError):
                ours[name]
    assert list(ours) == list(django)
    assert len(ours) == len(django)
    assert dict(ours.items()) == dict(django.items())
    assert ours == django
    assert repr(ours) == repr(django)


def test_a_lookup_reads_the_environ_as_it_is_now():
    # request.META is the environ: a header a middleware adds to it is there at the next lookup.
    environ = {}
    headers = Headers(environ)
    assert headers.get("X-Request-Id") is None
    environ["HTTP_X_REQUEST_ID"] = "abc"
    assert headers["X-Request-Id"] == "abc"


@pytest.mark.django_db
def test_an_api_request_reads_its_headers_one_by_one(settings, dev):
    # CORS on for the API, an Accept to negotiate, a bearer token: each reader asks for its one
    # header, and nobody builds the whole mapping (Django's would parse every header's name).
    settings.CORS_API_ALLOWED_ORIGINS = ["https://spa.example"]
    _token, secret = issue(dev, scopes=["read.me"])
    for extra in ({}, {"HTTP_ORIGIN": "https://spa.example"}):
        response = Client().get(
            "/api/v1/me",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
            HTTP_ACCEPT="application/json",
            HTTP_X_UNRELATED="sent, never read",
            **extra,
        )
        assert response.status_code == 200
        headers = response.wsgi_request.headers
        assert isinstance(headers, Headers)
        assert "_store" not in vars(headers)

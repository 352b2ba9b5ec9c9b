"""The API's parsers: hostile bodies stop here with a 400, before any view or database sees them.

Every Keyward operation takes a JSON object (the OpenAPI document says so, and
tests/adversarial/test_hostile_input.py holds it), so the parser is the one place that can
refuse what no view expects: bodies nested deeper than JSON_MAX_DEPTH, bodies that are not
objects, and strings holding NUL or other control characters (PostgreSQL cannot store NUL;
the others only ever smuggle something into logs, headers or another system).
"""

import json
import re

from django.conf import settings
from djangorestframework_camel_case.parser import CamelCaseFormParser, CamelCaseMultiPartParser
from djangorestframework_camel_case.settings import api_settings as camel_settings
from djangorestframework_camel_case.util import underscoreize
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser

# Deep enough for any body Keyward takes (the deepest is 3 levels); far below Python's
# recursion limit, which a 1 KB body of brackets would otherwise reach.
JSON_MAX_DEPTH = 32

# C0 controls except tab, newline and carriage return; DEL; lone UTF-16 surrogates (which
# json.loads accepts as escapes and no database can encode).
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class RequestTooLarge(APIException):
    status_code = 413
    default_detail = "The request body is larger than this server accepts."
    default_code = "request_too_large"


def refuse_control_characters(value, where="The request"):
    if CONTROL_CHARACTERS.search(value):
        raise ParseError(
            f"{where} holds NUL or another control character, which Keyward never accepts.",
            code="invalid_characters",
        )


def check_shape(data, max_depth=JSON_MAX_DEPTH):
    """Walk a parsed body without recursion: depth, and every key and string."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            if depth > max_depth:
                raise ParseError(
                    f"The JSON body is nested deeper than {max_depth} levels.", code="invalid_json"
                )
            for key, item in value.items():
                refuse_control_characters(key)
                pending.append((item, depth + 1))
        elif isinstance(value, list):
            if depth > max_depth:
                raise ParseError(
                    f"The JSON body is nested deeper than {max_depth} levels.", code="invalid_json"
                )
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            refuse_control_characters(value)


def read_bounded(stream):
    """The body, or a 413 when it is bigger than DATA_UPLOAD_MAX_MEMORY_SIZE (chunked bodies
    carry no Content-Length for the middleware to check)."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    raw = stream.read() if limit is None else stream.read(limit + 1)
    if limit is not None and len(raw) > limit:
        raise RequestTooLarge()
    return raw


def _strict_constant(name):
    raise ValueError(f"{name} is not valid JSON")


class JSONParser(BaseParser):
    """camelCase JSON → snake_case data, refusing deep, non-object and control-character bodies."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.loads(
                read_bounded(stream).decode(encoding), parse_constant=_strict_constant
            )
        except RecursionError:
            raise ParseError(
                f"The JSON body is nested deeper than {JSON_MAX_DEPTH} levels.", code="invalid_json"
            ) from None
        except (
            ValueError,
            LookupError,
        ) as exc:  # also UnicodeDecodeError; LookupError: unknown charset
            raise ParseError(f"The body is not valid JSON: {exc}.", code="invalid_json") from None
        if not isinstance(data, dict):
            raise ParseError("The JSON body must be an object ({…}).", code="invalid_json")
        check_shape(data)
        return underscoreize(data, **camel_settings.JSON_UNDERSCOREIZE)


class FormParser(CamelCaseFormParser):
    """URL-encoded forms, refusing control characters in names and values.

    Not among the API's defaults (the API takes JSON): for a view that must take a browser's form.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        for key, values in data.lists():
            refuse_control_characters(key)
            for value in values:
                refuse_control_characters(value)
        return data


class MultiPartParser(CamelCaseMultiPartParser):
    """Multipart forms, refusing control characters in field names and values (files are bytes).

    Not among the API's defaults, like FormParser.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        for key, values in parsed.data.lists():
            refuse_control_characters(key)
            for value in values:
                if isinstance(value, str):
                    refuse_control_characters(value)
        return parsed

"""Reading an endpoint's JSON body, strictly, and loading it with a schema."""

from __future__ import annotations

import json
import typing as t

from flask import request
from marshmallow import Schema
from marshmallow import ValidationError
from werkzeug.exceptions import ClientDisconnected
from werkzeug.exceptions import RequestEntityTooLarge

from .exceptions import BadRequestError


def _refuse_duplicate_keys(pairs: list[tuple[str, t.Any]]) -> dict[str, t.Any]:
    # Two parsers could pick different values for a repeated key; refuse it.
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key!r}")
            seen.add(key)
    return result


def _is_json(content_type: str) -> bool:
    # werkzeug's Request.is_json, without parsing the parameters it ignores.
    mimetype = content_type.partition(";")[0].strip().lower()
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def _refuse_constant(name: str) -> t.NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def _read(limit: int) -> bytes:
    """The body, at most ``limit`` bytes.

    :raises BadRequestError: 413 over the limit, 400 if cut short.
    """
    app_limit = request.max_content_length
    if app_limit is not None:
        limit = min(app_limit, limit)
    # One byte over the limit: a body of unknown length (chunked) is cut at
    # the limit without an error, so reading one more tells.
    request.max_content_length = limit + 1
    try:
        body: bytes | None = request.get_data(cache=False)
    except RequestEntityTooLarge:
        body = None
    except ClientDisconnected:
        raise BadRequestError(
            "Request body is incomplete",
            {"_body": ["The body is shorter than its Content-Length."]},
        ) from None
    if body is None or len(body) > limit:
        raise BadRequestError(
            "Request body is too large",
            {"_body": [f"Must be at most {limit} bytes."]},
            status_code=413,
        )
    return body


def read_json(limit: int, *, optional: bool = False) -> t.Any:
    """Parse the request's JSON body: UTF-8, no duplicate keys, no ``NaN``.

    :param limit: the largest body accepted, in bytes.
    :param optional: an empty body is no body: return ``None``.
    :raises BadRequestError: 400 for anything but JSON, 413 for a body over
        ``limit``.
    """
    content_type = request.environ.get("CONTENT_TYPE", "")
    if not optional and not _is_json(content_type):
        raise _not_json()
    body = _read(limit)
    if optional and not body:
        return None
    if not _is_json(content_type):
        raise _not_json()
    try:
        # RFC 8259 section 8.1: UTF-8 only, where json.loads would also
        # guess UTF-16 and UTF-32 from bytes; NaN and Infinity are not JSON.
        return json.loads(
            body.decode("utf-8"),
            object_pairs_hook=_refuse_duplicate_keys,
            parse_constant=_refuse_constant,
        )
    except (ValueError, RecursionError) as exc:
        raise BadRequestError(
            "Request body is not valid JSON", {"_body": [str(exc)[:200]]}
        ) from None


def _not_json() -> BadRequestError:
    return BadRequestError(
        "Request body must be JSON",
        {"_body": ["Content-Type must be application/json."]},
    )


def load(schema: Schema, data: t.Any, description: str) -> dict[str, t.Any]:
    """``schema.load(data)``, its errors a 400 with ``description`` and the
    field messages.

    :raises BadRequestError: if ``data`` does not validate.
    """
    try:
        loaded: dict[str, t.Any] = schema.load(data)
    except ValidationError as exc:
        messages = (
            exc.messages
            if isinstance(exc.messages, dict)
            else {"_schema": exc.messages}
        )
        raise BadRequestError(description, messages) from None
    return loaded

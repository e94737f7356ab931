"""The one check of a text field that apps send (manifests, the accounts API).

Each caller passes how its errors are made, `error(field, problem)`, so a manifest error and an
API error read alike: the field, then the problem ("is missing", "must be a non-empty string").
"""
from __future__ import annotations

from typing import Callable


def text_field(value, field: str, limit: int | None, error: Callable[[str, str], Exception],
               required: bool = True) -> str | None:
    """`value` stripped, or `error` raised when it is missing, not a non-empty string, or longer
    than `limit` characters once stripped. A missing value that is not required gives None."""
    if value is None:
        if required:
            raise error(field, "is missing")
        return None
    if not isinstance(value, str) or not value.strip():
        raise error(field, "must be a non-empty string")
    value = value.strip()
    if limit is not None and len(value) > limit:
        raise error(field, f"must be at most {limit} characters")
    return value

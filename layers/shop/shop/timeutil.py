"""Time-zone aware date-times, shared by every input that carries an instant.

An instant without a zone is ambiguous, so input must carry one; what is already stored may not (older
records), and is read as UTC. The API is three names:

- ``AwareDatetime``: a pydantic field type. ISO 8601 text (or a ``datetime``) with a zone; a number or a
  date-time without a zone fails validation with "needs a time zone ..." at the field's location, so an
  HTTP body gives a 422 naming the field (e.g. ``body.starts_at``). The value is converted to UTC.
- ``parse_aware(value, field)``: the same check for code that is not a pydantic model; raises
  ``shop.errors.InvalidInput(field, ...)`` (422 naming ``field``). Returns the instant in UTC.
- ``read_utc(value)``: lenient reader for stored values: ISO text or ``datetime``, ``Z`` accepted, a naive
  value is taken as UTC. Raises ``ValueError`` for text that is not a date-time at all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Final

from pydantic import AfterValidator, BeforeValidator

from shop.errors import InvalidInput

EXAMPLE: Final = "2026-12-01T00:00:00Z"
NEEDS_ZONE: Final = f"needs a time zone (e.g. {EXAMPLE} or 2026-12-01T01:00:00+01:00)"
NOT_A_TIME: Final = f"must be an ISO 8601 date-time with a time zone, such as {EXAMPLE}"


def _iso_text(value: object) -> object:
    """Only text or a datetime: a number would otherwise be read as seconds since 1970."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(NOT_A_TIME)
    try:
        return datetime.fromisoformat(value.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(NOT_A_TIME) from None


def _zoned(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(NEEDS_ZONE)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 lies before the first representable instant
        raise ValueError(NOT_A_TIME) from None


AwareDatetime = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_zoned)]
"""A pydantic field type: an instant with an explicit zone, normalised to UTC."""


def parse_aware(value: object, field: str) -> datetime:
    """``value`` (ISO text or datetime) as a UTC datetime; ``InvalidInput(field, ...)`` when it is not a
    date-time or has no zone."""
    try:
        parsed = _iso_text(value)
        assert isinstance(parsed, datetime)
        return _zoned(parsed)
    except ValueError as exc:
        raise InvalidInput(field, str(exc)) from None


def read_utc(value: str | datetime) -> datetime:
    """A stored instant as a UTC datetime; a value without a zone (older records) is taken as UTC."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)

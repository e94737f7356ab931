"""The domain's errors: each says what went wrong in words for people and carries its HTTP status.

Services raise these; one error handler turns them into a page, a fragment or problem+json,
so views never catch them only to translate.
"""
from __future__ import annotations


class DomainError(Exception):
    """Something the console refuses to do; `message` is shown to the person who asked."""

    status: int = 400
    kind: str = "bad-request"  # the last part of the problem type URI
    title: str = "Bad request"

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field  # the input field at fault, when there is one


class InvalidInput(DomainError):
    """The request's input cannot be used as given."""


class Unprocessable(DomainError):
    """A form that was understood but fails validation (shown beside its fields)."""

    status = 422
    kind = "validation-failed"
    title = "Check the highlighted fields"


class NotFound(DomainError):
    """No such thing in the asker's workspace (another workspace's things are not found either)."""

    status = 404
    kind = "not-found"
    title = "Not found"


class Forbidden(DomainError):
    """The asker's role does not allow this."""

    status = 403
    kind = "forbidden"
    title = "Not allowed"


class Conflict(DomainError):
    """The thing is not in a state where this can happen (e.g. uninstalling an uninstalled app)."""

    status = 409
    kind = "conflict"
    title = "Not possible now"

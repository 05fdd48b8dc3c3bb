"""The one domain error class every app raises for a refused action.

A DomainError has a stable machine code, a message already translated into the
user's language, and optional extra data. Pages show ``message``; the API maps it
to a 4xx JSON body ``{"code", "message", "extra"}``.
"""


class DomainError(Exception):
    code = "invalid"
    status = 400

    def __init__(self, message, *, code=None, extra=None, status=None):
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code
        if status:
            self.status = status
        self.extra = extra or {}

    def as_dict(self):
        return {"code": self.code, "message": self.message, "extra": self.extra}


class OutOfScope(DomainError):
    """The object lies outside the actor's Region subtree (or does not exist)."""

    code = "out_of_scope"
    status = 404


class NotAllowed(DomainError):
    """The actor's role may not take this action."""

    code = "not_allowed"
    status = 403


class Conflict(DomainError):
    """The object changed under us: wrong state, a duplicate, a lost race."""

    code = "conflict"
    status = 409

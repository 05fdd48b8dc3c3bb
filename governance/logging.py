"""What the logs may not hold: full ID numbers, mainland phone numbers and the
bearer tokens of the residents' links; and no traceback for a refused request.

``ScrubPersonalDataFilter`` sits on every handler of ``settings.LOGGING`` (a
handler's filter sees the records of every logger, a logger's only its own). It
rewrites a record's message with its arguments already merged in, so a search
string (``?q=370102…``), a request path (``/tickets/evaluate/7/<token>/``) or an
SMS text never reaches a file. ``ScrubbingGunicornLogger`` puts the same filter on
gunicorn's access and error logs (``gunicorn --logger-class
governance.logging.ScrubbingGunicornLogger``).
"""

import logging
import re

# 18-character ID number (居民身份证号): 17 digits and a digit or X check.
ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
# Mainland mobile number, with or without +86 / 0086 in front.
PHONE_RE = re.compile(r"(?<!\d)(?:(?:\+|00)86[- ]?)?1[3-9]\d{9}(?!\d)")
# The signed token in a resident's link: the evaluation link
# (/tickets/evaluate/<ticket>/<token>/) and the points statement link
# (/points/statement/<token>/). Signed tokens are URL-safe ASCII; an already
# redacted "…" is left as it is.
TOKEN_PATH_RE = re.compile(r"(/evaluate/\d+/|/statement/)[A-Za-z0-9_:=.%-]+")

ID_NUMBER_MARK = "[id-number]"
PHONE_MARK = "[phone]"
TOKEN_MARK = "[token]"


def scrub(text: str) -> str:
    """``text`` with ID numbers, phone numbers and link tokens replaced."""
    text = TOKEN_PATH_RE.sub(lambda m: m.group(1) + TOKEN_MARK, text)
    text = ID_NUMBER_RE.sub(ID_NUMBER_MARK, text)
    return PHONE_RE.sub(PHONE_MARK, text)


class ScrubPersonalDataFilter(logging.Filter):
    """Rewrites each record in place; never drops one.

    The message is merged with its arguments first (``record.getMessage()``), so
    personal data in an argument (a request path, gunicorn's access-log atoms)
    is scrubbed too. A refused request (403) is logged as one line: its
    traceback (Django logs ``PermissionDenied`` with ``exc_info``) says nothing
    an operator needs and fills the log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: keep the record as it came
            return True
        record.msg = scrub(message)
        record.args = None
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


try:
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # gunicorn is only needed to serve
    _GunicornLogger = None

if _GunicornLogger is not None:

    class ScrubbingGunicornLogger(_GunicornLogger):
        """gunicorn's logger with ``ScrubPersonalDataFilter`` on its access and
        error handlers (the access line holds the path and query string)."""

        def setup(self, cfg):
            super().setup(cfg)
            for log in (self.access_log, self.error_log):
                for handler in log.handlers:
                    if not any(
                        isinstance(f, ScrubPersonalDataFilter) for f in handler.filters
                    ):
                        handler.addFilter(ScrubPersonalDataFilter())

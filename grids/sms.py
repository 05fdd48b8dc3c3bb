"""Text messages (短信) to residents, through a pluggable sender.

It lives in ``grids`` because every app may need it (the ticket's evaluation
link today, a resident's points statement link next) and ``grids`` is the app
all others may import.

``settings.SMS_BACKEND`` names the sender by dotted path; ``SMS_BACKEND_OPTIONS``
(a dict) is passed to its constructor. The default, ``LoggingSmsBackend``, sends
nothing: it writes the masked number and the message with its secret parts
removed to the ``gridwork.sms`` log. A provider's adapter is a subclass of
``BaseSmsBackend`` that implements ``send`` (see docs/operations.md)::

    class AcmeSmsBackend(BaseSmsBackend):
        def __init__(self, *, api_key, sign_name, **options):
            super().__init__(**options)
            self.client = acme.Client(api_key)
            self.sign_name = sign_name

        def send(self, message):
            self.client.send(phone=message.to, text=message.body, sign=self.sign_name)

Callers send after their transaction commits (``transaction.on_commit``), so a
rolled-back change sends nothing.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from .masking import mask_phone

logger = logging.getLogger("gridwork.sms")

DEFAULT_BACKEND = "grids.sms.LoggingSmsBackend"


@dataclass(frozen=True)
class SmsMessage:
    """One text message. ``body`` is what the resident receives; ``redacted_body``
    is the same text with its secrets (a signed link's token) replaced, safe for
    logs."""

    to: str
    body: str
    redacted_body: str = ""

    def __post_init__(self):
        if not self.redacted_body:
            object.__setattr__(self, "redacted_body", self.body)

    @property
    def masked_to(self) -> str:
        return mask_phone(self.to)


class SmsError(Exception):
    """The sender could not hand the message over (a provider's error)."""


class BaseSmsBackend:
    """What an adapter implements. ``send`` raises ``SmsError`` when the provider
    refuses the message; it must not log the body or the number unmasked."""

    def __init__(self, **options):
        self.options = options

    def send(self, message: SmsMessage) -> None:
        raise NotImplementedError


class LoggingSmsBackend(BaseSmsBackend):
    """The default: writes to the log what would be sent, without the number's
    middle digits or the link's token. Nothing is sent and nothing is stored."""

    def send(self, message: SmsMessage) -> None:
        logger.info("SMS to %s: %s", message.masked_to, message.redacted_body)


# Messages "sent" by LocmemSmsBackend, newest last (tests and development).
outbox: list[SmsMessage] = []


class LocmemSmsBackend(BaseSmsBackend):
    """Keeps messages in ``grids.sms.outbox``, like Django's locmem mail backend."""

    def send(self, message: SmsMessage) -> None:
        outbox.append(message)


def backend_path() -> str:
    return getattr(settings, "SMS_BACKEND", DEFAULT_BACKEND) or DEFAULT_BACKEND


def get_sms_backend() -> BaseSmsBackend:
    backend_class = import_string(backend_path())
    return backend_class(**getattr(settings, "SMS_BACKEND_OPTIONS", {}))


def send_sms(message: SmsMessage) -> bool:
    """Hand ``message`` to the configured sender; False (and an error in the log)
    if the provider refused it. Call it from ``transaction.on_commit``."""
    try:
        get_sms_backend().send(message)
    except SmsError:
        logger.exception("SMS to %s was not sent", message.masked_to)
        return False
    return True


def check_sms_backend() -> str | None:
    """Why the configured sender cannot be used, or None (a system check)."""
    path = backend_path()
    try:
        backend_class = import_string(path)
    except ImportError as exc:
        return f"SMS_BACKEND {path!r} cannot be imported: {exc}"
    if not (
        isinstance(backend_class, type) and issubclass(backend_class, BaseSmsBackend)
    ):
        return f"SMS_BACKEND {path!r} is not a subclass of grids.sms.BaseSmsBackend"
    try:
        backend_class(**getattr(settings, "SMS_BACKEND_OPTIONS", {}))
    except Exception as exc:  # a misconfigured provider: say so at start
        return f"SMS_BACKEND {path!r} cannot be set up with SMS_BACKEND_OPTIONS: {exc}"
    return None

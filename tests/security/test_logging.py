"""Logs hold no full ID number, phone number or link token, and a 403 is one
line without a traceback (issue 9, finding 8)."""

import io
import logging

import pytest
from django.conf import settings
from django.urls import reverse

from governance.logging import ScrubPersonalDataFilter, scrub

ID_NUMBER = "37010219900101123X"
PHONE = "13800001111"
TOKEN = "eyJ0Ijo3LCJwIjoiYWJjIn0:1tQx2A:Zm9vYmFy"


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        (f"GET /admin/grids/resident/?q={ID_NUMBER} 200", "?q=[id-number]", ID_NUMBER),
        ("q=370102199001011234&x=1", "q=[id-number]&x=1", "370102199001011234"),
        (f"phone {PHONE} called", "phone [phone] called", PHONE),
        ("tel=+8613800001111", "tel=[phone]", "13800001111"),
        (f"/tickets/evaluate/7/{TOKEN}/", "/tickets/evaluate/7/[token]/", TOKEN),
        (f"/points/statement/{TOKEN}/?x=1", "/points/statement/[token]/?x=1", TOKEN),
    ],
)
def test_scrub_replaces_personal_data(text, kept, gone):
    scrubbed = scrub(text)
    assert kept in scrubbed
    assert gone not in scrubbed


@pytest.mark.parametrize(
    "text",
    [
        "ticket 2026-000123",
        "page 13 of 40",
        "370102",
        "region 1234567890",
        "user 42",
        "https://x.example/tickets/evaluate/1/…/",  # already redacted
    ],
)
def test_scrub_leaves_other_numbers(text):
    assert scrub(text) == text


def _record(msg, *args, **extra):
    record = logging.LogRecord(
        "django.request", logging.WARNING, "x", 1, msg, args, None
    )
    record.__dict__.update(extra)
    return record


def test_the_filter_scrubs_the_arguments_too():
    record = _record("Not Found: %s", f"/points/statement/{TOKEN}/")
    assert ScrubPersonalDataFilter().filter(record) is True
    assert TOKEN not in record.getMessage()
    assert record.getMessage() == "Not Found: /points/statement/[token]/"


def test_the_filter_scrubs_gunicorn_style_mapping_arguments():
    record = _record('%(h)s "%(r)s"', {"h": "1.2.3.4", "r": f"GET /?q={ID_NUMBER}"})
    ScrubPersonalDataFilter().filter(record)
    assert record.getMessage() == '1.2.3.4 "GET /?q=[id-number]"'


def test_the_filter_drops_the_traceback_of_a_403():
    try:
        raise PermissionError("no")
    except PermissionError:
        import sys

        record = _record("Forbidden (Permission denied): %s", "/x/", status_code=403)
        record.exc_info = sys.exc_info()
    ScrubPersonalDataFilter().filter(record)
    assert record.exc_info is None


def test_every_configured_handler_scrubs():
    assert settings.LOGGING["handlers"]
    for name, handler in settings.LOGGING["handlers"].items():
        assert "scrub" in handler.get("filters", []), name


# The loggers of what runs in production (the app, Django, the servers and the
# libraries it configures); tools only the suite loads (import-linter, the
# browser driver) keep their own handlers and are not checked.
PRODUCTION_LOGGERS = (
    "django",
    "gunicorn",
    "celery",
    "kombu",
    "axes",
    "governance",
    "grids",
    "tickets",
    "points",
    "partyorg",
)


def test_no_logger_of_the_process_writes_around_the_filter():
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
        and logger.name.split(".")[0] in PRODUCTION_LOGGERS
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if type(handler).__module__.startswith("_pytest") or isinstance(
                handler, logging.NullHandler
            ):
                continue  # pytest's own capture; a handler that writes nothing
            assert any(
                isinstance(f, ScrubPersonalDataFilter) for f in handler.filters
            ), (logger.name, handler)


@pytest.fixture
def log_output():
    """What the configured console handler writes, as a string."""
    (handler,) = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, ScrubPersonalDataFilter) for f in h.filters)
    ]
    stream = io.StringIO()
    old = handler.setStream(stream)
    yield stream
    handler.setStream(old)


@pytest.mark.django_db
def test_a_request_log_line_holds_no_token_or_id_number(client, log_output):
    client.get(f"/points/statement/{TOKEN}/", {"q": ID_NUMBER})
    client.get(f"/tickets/evaluate/999999/{TOKEN}/")
    written = log_output.getvalue()
    assert "/points/statement/[token]/" in written or "[token]" in written
    assert TOKEN not in written
    assert ID_NUMBER not in written


@pytest.mark.django_db
def test_a_403_is_logged_as_one_line_without_traceback(
    client, community_staff, log_output
):
    client.force_login(community_staff)
    response = client.get(reverse("admin:tickets_workcalendaryear_add"))
    assert response.status_code == 403
    lines = [line for line in log_output.getvalue().splitlines() if line]
    assert any("Forbidden" in line for line in lines), lines
    assert not any("Traceback" in line for line in lines), lines


def test_the_gunicorn_logger_scrubs_the_access_log():
    from gunicorn.config import Config

    from governance.logging import ScrubbingGunicornLogger

    cfg = Config()
    cfg.set("accesslog", "-")
    logger = ScrubbingGunicornLogger(cfg)
    (handler,) = logger.access_log.handlers
    assert any(isinstance(f, ScrubPersonalDataFilter) for f in handler.filters)
    stream = io.StringIO()
    handler.setStream(stream)
    logger.access_log.info(
        '%(h)s "%(r)s"', {"h": "1.2.3.4", "r": f"GET /?q={ID_NUMBER}"}
    )
    assert ID_NUMBER not in stream.getvalue()
    assert "[id-number]" in stream.getvalue()


@pytest.fixture
def fresh_worker_logging():
    """Let the Celery app set up a worker's logging again, as a worker starting in
    this process would; the loggers it may touch are put back afterwards."""
    from celery.app.log import Logging

    names = ["", "celery", "celery.task", "celery.redirected", "celery.worker"]
    saved = {
        n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate)
        for n in names
    }
    was_setup = Logging._setup
    Logging._setup = False
    yield
    Logging._setup = was_setup
    for name, (handlers, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = handlers
        logger.propagate = propagate


def test_the_worker_logs_only_through_the_scrubbing_handlers(fresh_worker_logging):
    from celery.utils.log import get_task_logger

    from governance.celery import app

    assert app.conf.worker_hijack_root_logger is False
    # What the worker, and each of its child processes, runs at start.
    app.log.setup(loglevel="INFO", hostname="worker@test", redirect_stdouts=False)
    for name in ("", "celery", "celery.task", "celery.redirected", "celery.worker"):
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            if type(handler).__module__.startswith("_pytest") or isinstance(
                handler, logging.NullHandler
            ):
                continue  # pytest's own capture; a handler that writes nothing
            assert any(
                isinstance(f, ScrubPersonalDataFilter) for f in handler.filters
            ), (name or "root", handler)
    (handler,) = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, ScrubPersonalDataFilter) for f in h.filters)
    ]
    stream = io.StringIO()
    old = handler.setStream(stream)
    try:
        get_task_logger("grids.tasks").warning("resident %s called", ID_NUMBER)
    finally:
        handler.setStream(old)
    assert "resident [id-number] called" in stream.getvalue()
    assert ID_NUMBER not in stream.getvalue()

"""Writing to and reading from the in-app inbox (shared by every app).

A message's link is a path inside this site ("/tickets/12/"): anything else (an
absolute or protocol-relative URL, ``javascript:``) is dropped when the message
is written, with a warning in the log, and refused again when it is opened.
"""

import logging

from django.db import connection
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from .models import Notification

logger = logging.getLogger(__name__)


def is_site_link(url: str) -> bool:
    """Whether ``url`` is a path on this site: starts with one "/", no scheme, no
    host, no backslash or control character."""
    return (
        isinstance(url, str)
        and url.startswith("/")
        and not url.startswith("//")
        and "\\" not in url
        and url.isprintable()
        and " " not in url
        and url_has_allowed_host_and_scheme(url, allowed_hosts=None)
    )


def site_link(url) -> str:
    """``url`` if it is a link inside this site, else "" (logged: a caller's bug)."""
    url = str(url or "").strip()
    if url and not is_site_link(url):
        logger.warning("notification link dropped, not a path on this site: %r", url)
        return ""
    return url


def notify(
    *,
    recipients,
    title: str,
    body: str = "",
    url: str = "",
    channel: str = "in_app",
    dedupe_key: str = "",
) -> int:
    """Put one message in each recipient's inbox in one INSERT.

    With a ``dedupe_key`` a recipient gets the message once, however often the
    caller runs (conflicting rows are skipped). Returns the number of recipients.
    Call it inside the caller's transaction or from ``transaction.on_commit``.
    """
    return notify_many(
        [
            {
                "recipients": recipients,
                "title": title,
                "body": body,
                "url": url,
                "channel": channel,
                "dedupe_key": dedupe_key,
            }
        ]
    )


def notify_many(messages) -> int:
    """Several messages (dicts with the arguments of ``notify``) in one INSERT,
    for periodic jobs that tell many people about many things at once.
    Returns the number of inbox rows offered."""
    rows = [
        Notification(
            recipient_id=recipient_id,
            channel=message.get("channel", "in_app"),
            title=str(message["title"])[:200],
            body=str(message.get("body", "")),
            url=site_link(message.get("url", "")),
            dedupe_key=message.get("dedupe_key", ""),
        )
        for message in messages
        for recipient_id in {getattr(r, "pk", r) for r in message["recipients"]}
    ]
    Notification.objects.bulk_create(
        rows, ignore_conflicts=any(row.dedupe_key for row in rows)
    )
    return len(rows)


def notify_latest(messages) -> int:
    """Put or replace one message per recipient and ``dedupe_key`` (required):
    a message already in the inbox under the same key takes the new title,
    body and link and shows as unread again. For a digest that grows while a
    job runs in batches: each batch writes the digest so far in its own
    transaction, so the inbox holds what the committed batches did, once per
    person. One statement (``INSERT … ON CONFLICT … DO UPDATE``). Returns the
    number of rows written."""
    rows = []
    for message in messages:
        key = message["dedupe_key"]
        if not key:
            raise ValueError("notify_latest needs a dedupe_key")
        for recipient_id in {getattr(r, "pk", r) for r in message["recipients"]}:
            rows.append(
                (
                    recipient_id,
                    message.get("channel", "in_app"),
                    str(message["title"])[:200],
                    str(message.get("body", "")),
                    site_link(message.get("url", "")),
                    key,
                )
            )
    if not rows:
        return 0
    table = Notification._meta.db_table
    now = timezone.now()
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    params = [value for row in rows for value in (*row, now)]
    with connection.cursor() as cursor:
        # The conflict target names the partial unique index
        # ``notification_once_per_key`` (its condition included).
        cursor.execute(
            f"INSERT INTO {table}"
            " (recipient_id, channel, title, body, url, dedupe_key, created_at)"
            f" VALUES {values}"
            " ON CONFLICT (recipient_id, channel, dedupe_key) WHERE NOT (dedupe_key = '')"
            " DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body,"
            " url = EXCLUDED.url, read_at = NULL",
            params,
        )
    return len(rows)


def unread_for(user) -> QuerySet:
    return Notification.objects.filter(
        recipient=user, channel="in_app", read_at__isnull=True
    )


def unread_count_subquery() -> Subquery:
    """The number of unread in-app messages of the user row ``OuterRef("pk")``,
    to annotate a user query with (the inbox badge without a query of its own)."""
    return Coalesce(
        Subquery(
            Notification.objects.filter(
                recipient=OuterRef("pk"), channel="in_app", read_at__isnull=True
            )
            .order_by()
            .values("recipient")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        ),
        0,
    )


def unread_count(user) -> int:
    """``user``'s unread count: from the login's annotation when loaded with it
    (``governance.auth_backends``), else one query."""
    annotated = getattr(user, "inbox_unread_count", None)
    if annotated is not None:
        return annotated
    return unread_for(user).count()


def notifications_mark_read(*, user, notification_ids=None) -> int:
    qs = unread_for(user)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=timezone.now())


def notification_open(*, user, notification_id: int) -> str | None:
    """The user opens one of their messages: it is marked read. Returns its link
    ("" when it has none), or None when the message is not theirs."""
    notification = (
        Notification.objects.filter(
            pk=notification_id, recipient=user, channel="in_app"
        )
        .only("url")
        .first()
    )
    if notification is None:
        return None
    notifications_mark_read(user=user, notification_ids=[notification_id])
    return notification.url if is_site_link(notification.url) else ""

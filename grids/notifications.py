"""Writing to and reading from the in-app inbox (shared by every app)."""

from django.db.models import QuerySet
from django.utils import timezone

from .models import Notification


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
            url=message.get("url", ""),
            dedupe_key=message.get("dedupe_key", ""),
        )
        for message in messages
        for recipient_id in {getattr(r, "pk", r) for r in message["recipients"]}
    ]
    Notification.objects.bulk_create(
        rows, ignore_conflicts=any(row.dedupe_key for row in rows)
    )
    return len(rows)


def unread_for(user) -> QuerySet:
    return Notification.objects.filter(
        recipient=user, channel="in_app", read_at__isnull=True
    )


def notifications_mark_read(*, user, notification_ids=None) -> int:
    qs = unread_for(user)
    if notification_ids is not None:
        qs = qs.filter(pk__in=notification_ids)
    return qs.update(read_at=timezone.now())

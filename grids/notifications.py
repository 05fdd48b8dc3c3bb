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
    rows = [
        Notification(
            recipient_id=getattr(r, "pk", r),
            channel=channel,
            title=str(title)[:200],
            body=str(body),
            url=url,
            dedupe_key=dedupe_key,
        )
        for r in {getattr(r, "pk", r) for r in recipients}
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=bool(dedupe_key))
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

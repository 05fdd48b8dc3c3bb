"""周通报 sent (seed 003 日巡查、周通报、月评比、年奖惩): every Monday morning each
active street's weekly bulletin of the week that ended goes to the street's
staff and to the supervisors whose area holds the street, as a message in
their inbox (``grids.notifications``: the pluggable channel every app uses)
linking to the bulletin page and its Excel download.

Once per street and week: a ``BulletinSending`` row is inserted for each street
before any message (``INSERT … ON CONFLICT DO NOTHING RETURNING``) and only the
streets it returns are sent their messages, in the same transaction; a rerun,
or a second worker at once (whose INSERT waits for the first one's rows, then
finds them), sends nothing twice. The messages also carry a dedupe key per
street and week.
"""

import datetime as dt

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.choices import RegionLevel, UserRole
from grids.models import Region, User
from grids.notifications import notify_many

from .dialect import db_datetime, is_postgresql
from .models import BulletinSending


def last_week_monday(today: dt.date) -> dt.date:
    """The Monday of the ISO week before the one holding ``today``."""
    return today - dt.timedelta(days=today.weekday() + 7)


def _recipients_by_street(streets: list[dict]) -> dict[int, set[int]]:
    """{street id: active accounts to tell}: street staff of the street and
    supervisors of the street or of an area above it (two queries)."""
    result = {street["pk"]: set() for street in streets}
    for user_id, region_id in User.objects.filter(
        is_active=True, role=UserRole.STREET_STAFF, region_id__in=list(result)
    ).values_list("pk", "region_id"):
        result[region_id].add(user_id)
    supervisors = list(
        User.objects.filter(
            is_active=True, role=UserRole.SUPERVISOR, region__isnull=False
        ).values_list("pk", "region__tree_id", "region__lft", "region__rght")
    )
    for street in streets:
        for user_id, tree_id, lft, rght in supervisors:
            if (
                tree_id == street["tree_id"]
                and lft <= street["lft"]
                and rght >= street["rght"]
            ):
                result[street["pk"]].add(user_id)
    return result


def _sendings_insert(rows, *, week, now) -> list[int]:
    """Record the streets' sendings of ``week`` but those already recorded:
    the streets recorded now. One statement on PostgreSQL; one a row on SQLite
    (a development database, whose writers are serialised)."""
    sql = (
        f"INSERT INTO {BulletinSending._meta.db_table}"
        " (street_id, week, recipients, sent_at) {values}"
        " ON CONFLICT (street_id, week) DO NOTHING RETURNING street_id"
    )
    with connection.cursor() as cursor:
        if is_postgresql():
            cursor.execute(
                sql.format(
                    values="SELECT s, %s, n, %s FROM unnest(%s::bigint[],"
                    " %s::integer[]) AS x(s, n) ORDER BY s"
                ),
                [week, now, [s for s, _n in rows], [n for _s, n in rows]],
            )
            return [row[0] for row in cursor.fetchall()]
        fresh = []
        single = sql.format(values="VALUES (%s, %s, %s, %s)")
        for street, count in rows:
            cursor.execute(single, [street, week, count, db_datetime(now)])
            fresh += [row[0] for row in cursor.fetchall()]
        return fresh


def weekly_bulletins_send(
    *, monday: dt.date | None = None, today: dt.date | None = None
) -> int:
    """Send each active street's 周通报 of the ISO week starting ``monday``
    (default: the week before the one holding ``today``) to its staff and
    supervisors, once per street and week. Returns the streets sent now."""
    today = today or timezone.localdate()
    monday = monday or last_week_monday(today)
    monday -= dt.timedelta(days=monday.weekday())
    now = timezone.now()
    streets = list(
        Region.objects.filter(level=RegionLevel.STREET, is_active=True)
        .order_by("pk")
        .values("pk", "name", "tree_id", "lft", "rght")
    )
    if not streets:
        return 0
    recipients = _recipients_by_street(streets)
    year, week_number, _day = monday.isocalendar()
    week_text = f"{year}-W{week_number:02d}"
    with transaction.atomic():
        sent = set(
            _sendings_insert(
                [(street["pk"], len(recipients[street["pk"]])) for street in streets],
                week=monday,
                now=now,
            )
        )
        messages = []
        for street in streets:
            if street["pk"] not in sent or not recipients[street["pk"]]:
                continue
            query = f"?region={street['pk']}&week={week_text}"
            values = {
                "street": street["name"],
                "week": week_text,
                "excel": reverse("bulletins:weekly_xlsx") + query,
            }
            messages.append(
                {
                    "recipients": recipients[street["pk"]],
                    "title": _("Weekly bulletin of %(street)s, %(week)s") % values,
                    "body": _(
                        "The weekly bulletin of %(street)s for %(week)s is ready."
                        " Excel: %(excel)s"
                    )
                    % values,
                    "url": reverse("bulletins:weekly") + query,
                    "dedupe_key": f"bulletin:weekly:{street['pk']}:{week_text}",
                }
            )
        if messages:
            notify_many(messages)
    return len(sent)

"""The wish log and the 双报到 service log are append-only: the model, the
queryset and (on PostgreSQL) a trigger refuse edits and deletions."""

import pytest
from django.db.models import ProtectedError

from partyorg import services
from tests.append_only import assert_append_only

from .factories import RegistrationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def wish(grid_worker, tree):
    return services.wish_post(
        actor=grid_worker, region=tree["grids"][0], title="修水管", beneficiary="老人"
    )


def test_wish_events_are_append_only(wish):
    assert_append_only(wish.events.get(), note="改写的记录")


def test_a_wish_with_a_log_cannot_be_deleted(wish):
    with pytest.raises(ProtectedError):
        wish.delete()
    assert wish.events.count() == 1


def test_service_records_are_append_only(community_staff, tree):
    import datetime as dt

    from django.utils import timezone

    registration = RegistrationFactory(
        community=tree["communities"][0],
        registered_on=timezone.localdate() - dt.timedelta(days=30),
    )
    record = services.service_record_log(
        actor=community_staff,
        registration_id=registration.pk,
        task="清理楼道",
        hours=2,
        served_on=timezone.localdate(),
    )
    assert_append_only(record, task="改写的服务")

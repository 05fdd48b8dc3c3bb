"""Idempotent form posts (grids.idempotency): a replay with the same key runs
nothing and answers with the first outcome; the same key with other content is
a Conflict; a refusal leaves no key behind; two sends at once make one record;
the nightly purge forgets old keys and is idempotent itself."""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from grids.errors import Conflict, DomainError
from grids.idempotency import idempotency_keys_purge, with_idempotency
from grids.models import IdempotencyKey, Notification
from grids.tasks import purge_idempotency_keys

KEY = "5f0c7a52-3c2e-4a51-9a43-0d8f6a1f0b11"


def _request(user, **data):
    request = RequestFactory().post("/m/x/", data)
    request.user = user
    return request


def _writer(user, counter):
    def run() -> str:
        counter.append(1)
        note = Notification.objects.create(recipient=user, title="记录")
        return f"/m/done/{note.pk}/"

    return run


@pytest.mark.django_db
def test_first_send_runs_and_a_replay_returns_the_first_outcome(grid_worker):
    runs = []
    first = with_idempotency(
        _request(grid_worker, idempotency_key=KEY, note="a"),
        "test",
        _writer(grid_worker, runs),
    )
    again = with_idempotency(
        _request(grid_worker, idempotency_key=KEY, note="a"),
        "test",
        _writer(grid_worker, runs),
    )
    assert runs == [1]
    assert first["Location"] == again["Location"]
    assert (first.replayed, again.replayed) == (False, True)
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_same_key_with_other_content_is_a_conflict(grid_worker):
    runs = []
    with_idempotency(
        _request(grid_worker, idempotency_key=KEY, note="a"),
        "test",
        _writer(grid_worker, runs),
    )
    with pytest.raises(Conflict):
        with_idempotency(
            _request(grid_worker, idempotency_key=KEY, note="b"),
            "test",
            _writer(grid_worker, runs),
        )
    assert runs == [1]


@pytest.mark.django_db
def test_keys_are_per_user_and_per_form(grid_worker, community_staff):
    runs = []
    for user, scope in [(grid_worker, "a"), (community_staff, "a"), (grid_worker, "b")]:
        with_idempotency(
            _request(user, idempotency_key=KEY), scope, _writer(user, runs)
        )
    assert len(runs) == 3


@pytest.mark.django_db
def test_public_forms_key_without_a_user(db):
    runs = []
    for _ in range(2):
        with_idempotency(
            _request(AnonymousUser(), idempotency_key=KEY),
            "public",
            lambda: runs.append(1) or "/thanks/",
        )
    assert runs == [1]
    assert IdempotencyKey.objects.get().user is None


@pytest.mark.django_db
def test_a_refused_run_leaves_no_key_so_the_form_can_be_sent_again(grid_worker):
    def refuse() -> str:
        Notification.objects.create(recipient=grid_worker, title="半条")
        raise DomainError("不行")

    with pytest.raises(DomainError):
        with_idempotency(_request(grid_worker, idempotency_key=KEY), "test", refuse)
    assert not IdempotencyKey.objects.exists()
    assert not Notification.objects.exists()  # nothing half-written
    runs = []
    with_idempotency(
        _request(grid_worker, idempotency_key=KEY), "test", _writer(grid_worker, runs)
    )
    assert runs == [1]


@pytest.mark.django_db
def test_a_malformed_key_is_refused(grid_worker):
    with pytest.raises(DomainError):
        with_idempotency(
            _request(grid_worker, idempotency_key="x' OR 1=1"), "test", lambda: "/"
        )


@pytest.mark.django_db
def test_without_a_key_the_work_simply_runs(grid_worker):
    runs = []
    for _ in range(2):
        with_idempotency(_request(grid_worker), "test", _writer(grid_worker, runs))
    assert runs == [1, 1]


@pytest.mark.django_db
def test_template_tag_renders_a_fresh_key_each_time():
    template = Template("{% load grids_idempotency %}{% idempotency_field %}")
    first, second = template.render(Context()), template.render(Context())
    assert 'name="idempotency_key"' in first
    assert first != second


@pytest.mark.django_db
def test_purge_forgets_old_keys_and_running_it_twice_changes_nothing(
    grid_worker, settings
):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 24
    old = IdempotencyKey.objects.create(
        user=grid_worker, scope="s", key="old-key-123", fingerprint="f"
    )
    IdempotencyKey.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    fresh = IdempotencyKey.objects.create(
        user=grid_worker, scope="s", key="new-key-123", fingerprint="f"
    )
    assert purge_idempotency_keys() == 1
    assert idempotency_keys_purge() == 0
    assert list(IdempotencyKey.objects.values_list("pk", flat=True)) == [fresh.pk]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the unique index wait needs PostgreSQL"
)
def test_two_sends_at_once_make_one_record(grid_worker):
    barrier = threading.Barrier(2)
    runs, locations, errors = [], [], []

    def send():
        try:
            barrier.wait(timeout=10)
            response = with_idempotency(
                _request(grid_worker, idempotency_key=KEY, note="a"),
                "race",
                _writer(grid_worker, runs),
            )
            locations.append(response["Location"])
        except Exception as exc:  # recorded, so the assertion shows it
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    assert len(runs) == 1
    assert len(set(locations)) == 1 and len(locations) == 2
    assert Notification.objects.count() == 1

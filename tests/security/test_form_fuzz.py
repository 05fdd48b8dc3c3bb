"""Hostile input to every form: every admin add and change form (found from the
resolver, so a new admin is fuzzed without editing this file), the ticket page's
action forms, the phone pages and the resident's evaluation page. Each field
gets hostile values for its type (empty, whitespace, 10,000 characters, NUL,
10^20, -1, "abc", an outside object's id, an unknown choice, year 0 and 10000, a
huge or non-image file). No answer may be a 500, and a form error may leave no
row written behind it.

The values per field are a deterministic sample (seeded by URL and field), so
the run is bounded and every run posts the same.
"""

import logging
import random

import pytest
from django import forms
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from grids.models import Region
from tests.security.conftest import INSIDE_SIDE
from tests.security.test_scope_walk import (
    SHARED_MODELS,
    _admin_model_objects,
    all_routes,
)
from tickets.models import Ticket
from tickets.services.evaluation import evaluation_token

pytestmark = pytest.mark.django_db

VALUES_PER_FIELD = 2
PROJECT_APPS = ("grids", "tickets", "points", "partyorg")
BIG = "1" + "0" * 20


def _files():
    return [
        SimpleUploadedFile("x.png", b"<html><script>alert(1)</script></html>"),
        SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024)),
        SimpleUploadedFile("x.html", b"GIF89a<script>alert(1)</script>"),
    ]


def hostile_values(field, outside_pk):
    """The hostile values for a form field, by its type."""
    if isinstance(field, forms.FileField):
        return _files()
    if isinstance(field, forms.ModelMultipleChoiceField):
        return [["abc"], ["-1"], [BIG], [str(outside_pk)], ["\x00"]]
    if isinstance(field, forms.ModelChoiceField):
        return ["abc", "-1", BIG, str(outside_pk), "\x00", " "]
    if isinstance(field, forms.MultipleChoiceField):
        return [["no-such-choice"], [""]]
    if isinstance(field, forms.ChoiceField):
        return ["no-such-choice", "", "\x00"]
    if isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
        return [BIG, "-1", "abc", "1e400", "NaN", "", "-" + BIG]
    if isinstance(
        field, forms.DateField | forms.DateTimeField | forms.SplitDateTimeField
    ):
        return ["0000-00-00", "10000-01-01", "0001-01-01", "abc", "2024-02-30"]
    if isinstance(field, forms.BooleanField):
        return ["maybe", "\x00"]
    return ["", "   ", "x" * 10_000, "a\x00b", '=HYPERLINK("x")']


def _plain(value):
    if value is None:
        return ""
    if hasattr(value, "pk"):
        return str(value.pk)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def base_data(form) -> dict:
    """What the form would post as rendered: its initial values by HTML name."""
    data = {}
    for name, field in form.fields.items():
        bf = form[name]
        value = bf.value()
        widget = field.widget
        if isinstance(widget, forms.MultiWidget):
            parts = widget.decompress(value) if value is not None else []
            for i, suffix in enumerate(widget.widgets_names):
                part = parts[i] if i < len(parts) else None
                data[f"{bf.html_name}{suffix}"] = _plain(part)
        elif isinstance(field, forms.BooleanField):
            if value:
                data[bf.html_name] = "on"
        elif isinstance(field, forms.FileField):
            continue
        else:
            data[bf.html_name] = _plain(value)
    return data


def _with_value(form, name, data, value):
    bf = form[name]
    data = dict(data)
    widget = bf.field.widget
    if isinstance(widget, forms.MultiWidget):
        names = [f"{bf.html_name}{s}" for s in widget.widgets_names]
        data[names[0]] = value
        for other in names[1:]:
            data[other] = "00:00:00"
    else:
        data[bf.html_name] = value
    return data


def _forms_in(context):
    """Every form the page rendered, with the URL it posts to (None: the page)."""
    found, seen = [], set()

    def visit(value, url=None):
        if isinstance(value, forms.BaseForm):
            if id(value) not in seen:
                seen.add(id(value))
                found.append((value, url))
        elif isinstance(value, dict):
            for v in value.values():
                visit(v, value.get("url") if isinstance(value.get("url"), str) else url)
        elif isinstance(value, list | tuple):
            for v in value:
                visit(v, url)
        elif hasattr(value, "form") and isinstance(value.form, forms.BaseForm):
            visit(value.form, url)  # the admin's AdminForm

    if context is None:
        return found
    contexts = context if isinstance(context, list) else [context]
    for ctx in contexts:
        for name, value in ctx.flatten().items():
            if name in ("view", "request", "csrf_token"):
                continue
            visit(value)
    return found


class RowCounts:
    """The row count of every table of the project's apps, in one query.

    ``last`` keeps the counts taken after a post answered with the form again,
    so the next post, when nothing ran in between, starts from them instead of
    counting again (any other request forgets them)."""

    def __init__(self):
        self.last = None
        models = [
            m
            for m in apps.get_models()
            if m._meta.app_label in PROJECT_APPS and not m._meta.proxy
        ]
        self.labels = [m._meta.label for m in models]
        self.sql = "SELECT " + ", ".join(
            f"(SELECT count(*) FROM {connection.ops.quote_name(m._meta.db_table)})"
            for m in models
        )

    def take(self):
        self.last = None
        with connection.cursor() as cursor:
            cursor.execute(self.sql)
            return cursor.fetchone()

    def diff(self, before, after):
        return [
            f"{label} {b}→{a}"
            for label, b, a in zip(self.labels, before, after, strict=True)
            if b != a
        ]


def _outside_pk(world, field, role):
    model = getattr(getattr(field, "queryset", None), "model", None)
    if model is None:
        return 1
    if model is Region:
        return world.regions["far"]["grid"].pk
    objs = world.of("far", model) or world.of("sib", model)
    return objs[0].pk if objs else 1


def fuzz_page(client, world, role, url, failures, counts, stats, *, data=None):
    """Fuzz every form ``url`` renders (or the fields given in ``data``)."""
    counts.last = None
    response = client.get(url)
    if response.status_code >= 500:
        failures.append(f"500 {role} GET {url}")
        return
    found = _forms_in(response.context) if data is None else []
    for form, target in found:
        target = target or url
        base = base_data(form)
        for name, field in form.fields.items():
            if field.disabled:
                continue
            values = hostile_values(field, _outside_pk(world, field, role))
            rng = random.Random(f"{target}|{name}")
            for value in rng.sample(values, min(VALUES_PER_FIELD, len(values))):
                if isinstance(value, SimpleUploadedFile):
                    value.seek(0)
                post(
                    client,
                    role,
                    target,
                    _with_value(form, name, base, value),
                    f"{name}={_short(value)}",
                    failures,
                    counts,
                    stats,
                )
    for name, values in (data or {}).items():
        for value in values:
            post(
                client,
                role,
                url,
                {**{k: v[0] for k, v in data.items()}, name: value},
                f"{name}={_short(value)}",
                failures,
                counts,
                stats,
            )


def _short(value):
    text = getattr(value, "name", None) or repr(value)
    return text[:24] + ("…" if len(text) > 24 else "")


def post(client, role, url, data, what, failures, counts, stats):
    before = counts.last if counts.last is not None else counts.take()
    counts.last = None
    response = client.post(url, data)
    stats["posts"] += 1
    label = f"{role} POST {url} [{what}]"
    if response.status_code >= 500:
        exc = getattr(response, "exc_info", None)
        cause = f"{exc[0].__name__}: {str(exc[1])[:160]}" if exc else "500"
        failures.append(f"500 {label}: {cause}")
        return
    if response.status_code == 200:  # the form again, with its errors
        after = counts.take()
        counts.last = after
        changed = counts.diff(before, after)
        if changed:
            failures.append(f"HALF-WRITTEN {label}: {changed}")


def _admin_form_urls(world):
    """(role, url) of every admin add form and of the change form of an inside
    object (a shared list's first row)."""
    out = []
    for route in all_routes():
        ma = route.model_admin
        if ma is None or not route.name:
            continue
        if route.name.endswith("_add"):
            out.append(route.url())
        elif route.name.endswith("_change") and route.params == ["object_id"]:
            if ma.model._meta.label_lower in SHARED_MODELS:
                obj = ma.model._default_manager.order_by("pk").first()
            else:
                objs = _admin_model_objects(world, ma, INSIDE_SIDE["street_staff"])
                obj = objs[0] if objs else None
            if obj is not None:
                out.append(route.url(object_id=obj.pk))
    return out


@pytest.fixture
def quiet_log():
    logging.disable(logging.CRITICAL)
    yield
    logging.disable(logging.NOTSET)


def _client(world, role):
    client = Client(raise_request_exception=False)
    client.force_login(world.users[role])
    return client


@pytest.mark.parametrize("half", [0, 1])
def test_admin_forms_survive_hostile_input(shared_world, quiet_log, settings, half):
    """Every admin add and change form, as street staff (the administrator where
    street staff may not open it); in two halves."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    failures, stats, counts = [], {"posts": 0}, RowCounts()
    staff = _client(shared_world, "street_staff")
    root = _client(shared_world, "superuser")
    urls = _admin_form_urls(shared_world)[half::2]
    for url in urls:
        response = staff.get(url)
        client, role = (
            (staff, "street_staff")
            if response.status_code == 200
            else (root, "superuser")
        )
        fuzz_page(client, shared_world, role, url, failures, counts, stats)
    print(f"{len(urls)} forms, {stats['posts']} posts, {len(failures)} failures")
    assert not failures, f"{len(failures)} failures in {stats['posts']} posts:\n" + (
        "\n".join(failures)
    )


def test_page_forms_survive_hostile_input(shared_world, quiet_log, settings):
    """The phone pages, the ticket page's action forms and the evaluation page."""
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    world = shared_world
    failures, stats, counts = [], {"posts": 0}, RowCounts()
    worker = _client(world, "grid_worker")
    staff = _client(world, "community_staff")
    street = _client(world, "street_staff")
    for url in ("/m/points/propose/", "/m/party/wishes/new/", "/m/tickets/report/"):
        fuzz_page(worker, world, "grid_worker", url, failures, counts, stats)
    wish = world.of("in", apps.get_model("partyorg", "Wish"))[0]
    fuzz_page(
        staff,
        world,
        "community_staff",
        f"/m/party/wishes/{wish.pk}/",
        failures,
        counts,
        stats,
    )
    # 民生微实事 steps on the project page (the world's project is proposed):
    # values the form refuses, or steps the state refuses; nothing is written.
    project = world.of("in", apps.get_model("partyorg", "MicroProject"))[0]
    project_url = f"/m/party/projects/{project.pk}/"
    for client, role, data in (
        (staff, "community_staff", {"form": ["screen"], "note": ["x" * 10_000]}),
        (staff, "community_staff", {"form": ["reject"], "reason": ["", "a\x00b"]}),
        (staff, "community_staff", {"form": ["start", "accept", "nonsense", ""]}),
        (street, "street_staff", {"form": ["approve"], "budget": ["1", "NaN", "-1"]}),
        (
            street,
            "street_staff",
            {"form": ["accept"], "spent": ["1", "1e99"], "result": ["done", ""]},
        ),
    ):
        fuzz_page(client, world, role, project_url, failures, counts, stats, data=data)
    for ticket in world.of("in", Ticket):
        url = f"/admin/tickets/ticket/{ticket.pk}/change/"
        fuzz_page(street, world, "street_staff", url, failures, counts, stats)
        fuzz_page(staff, world, "community_staff", url, failures, counts, stats)
    handled = world.of("in", Ticket)[0]
    token = evaluation_token(ticket=handled)
    anonymous = Client(raise_request_exception=False)
    fuzz_page(
        anonymous,
        world,
        "anonymous",
        f"/tickets/evaluate/{handled.pk}/{token}/",
        failures,
        counts,
        stats,
        data={
            "verdict": ["satisfied", "no-such-verdict", "", "\x00"],
            "comment": ["", "x" * 10_000, "a\x00b"],
            "action": ["", "message", "no-such-action"],
            "text": ["", "x" * 10_000, "a\x00b"],
        },
    )
    print(f"{stats['posts']} posts, {len(failures)} failures")
    assert not failures, f"{len(failures)} failures in {stats['posts']} posts:\n" + (
        "\n".join(failures)
    )

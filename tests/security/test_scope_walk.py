"""Scope on every URL, automatically: every URL pattern of the project (pages,
phone pages, the admin with its per-model and custom views, later the API) is
requested as every role, with objects from inside and from outside the role's
area in its path parameters. It fails if an outside object is shown (its marker
is in the answer), listed, labelled or changed, if an outside object's URL is not
refused (404, 403, or a redirect with the "does not exist / outside your area"
message or to the login page), or if any URL answers 500.

The patterns are read from the resolver, so a URL added later is walked without
editing this file; a path parameter the walk cannot fill is a failure naming the
pattern (map it in ``KWARG_MODELS`` or ``_special_cases``), never a silent skip.
"""

import datetime as dt
import functools
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation
from django.utils.regex_helper import normalize

from grids.models import Household, Notification, Region
from partyorg.deliberation.views import notice_signature
from partyorg.models import Ballot, MicroProject, Topic, Whistle, Wish
from points.links import rankings_signature, statement_token
from tests.security.conftest import INSIDE_SIDE, ROLES
from tests.security.walk import history_version_of
from tickets.models import Ticket
from tickets.services.evaluation import evaluation_token

pytestmark = pytest.mark.django_db

# Path parameters named by what they hold, whatever the URL.
KWARG_MODELS = {
    "ticket_id": Ticket,
    "wish_id": Wish,
    "topic_id": Topic,
    "ballot_id": Ballot,
    "whistle_id": Whistle,
    "project_id": MicroProject,
    "community_id": Region,
    # The dashboard of a node (governance.dashboard_urls).
    "region_id": Region,
    "household_id": Household,
    # The phone inbox: a message is its recipient's only.
    "notification_id": Notification,
}
# Per admin model: the parameters that hold that model's primary key.
ADMIN_OBJECT_KWARGS = ("object_id", "id")
# The side whose object stands for "outside" in the path, per role: the nearest
# boundary (a sibling community inside the same street, or another district).
NEAREST_OUTSIDE = {
    "anonymous": ("in", "top", "far"),
    "grid_worker": ("sib", "far"),
    "community_staff": ("sib", "far"),
    "street_staff": ("far",),
    "supervisor_other_district": ("in", "top", "sib"),
    "superuser": (),
}
# Lists shared by every area (no Region): no object of them is "outside".
SHARED_MODELS = {
    "auth.group",
    "django_celery_beat.periodictask",
    "django_celery_beat.clockedschedule",
    "django_celery_beat.crontabschedule",
    "django_celery_beat.solarschedule",
    "django_celery_beat.intervalschedule",
    "grids.residenttag",
    "tickets.category",
    "tickets.workcalendarday",
    "tickets.workcalendaryear",
    "points.rulecategory",
    "points.ruleitem",
}
# Administrators' own pages from third-party apps (login lockouts, TOTP devices):
# no area role opens them at all, which the walk checks instead of sides.
ADMIN_ONLY_MODELS = {
    "axes.accessattempt",
    "axes.accessfailurelog",
    "axes.accesslog",
    "otp_totp.totpdevice",
}
# Views that end the session or switch the language: GET only.
NO_POST = {"logout", "admin:logout", "set_language", "m:logout"}
MISSING_PK = 987654321


@dataclass
class Route:
    """One URL pattern: its path as a %-format, its parameters, its name."""

    fmt: str
    params: list[str]
    name: str | None
    model_admin: admin.ModelAdmin | None = None
    converters: dict = field(default_factory=dict)
    callback: object = None

    def url(self, **kwargs) -> str:
        return "/" + self.fmt % {k: str(v) for k, v in kwargs.items()}

    @property
    def label(self) -> str:
        return f"/{self.fmt % {p: f'<{p}>' for p in self.params}}"


def _piece(pattern) -> str:
    # The same normalisation reverse() uses: one %-format per regex.
    fmt, _params = normalize(pattern.regex.pattern)[0]
    return fmt


def all_routes() -> list[Route]:
    """Every URL pattern of the project (read once per process)."""
    return list(_all_routes())


@functools.cache
def _all_routes() -> tuple[Route, ...]:
    admin_models = {
        f"{m._meta.app_label}/{m._meta.model_name}/": ma
        for m, ma in admin.site._registry.items()
    }
    routes = []

    def walk(patterns, fmt, namespace, model_admin, converters):
        for p in patterns:
            piece = _piece(p.pattern)
            convs = {**converters, **getattr(p.pattern, "converters", {})}
            if isinstance(p, URLResolver):
                # Nested namespaces as reverse() spells them ("m:tickets").
                if p.namespace and namespace:
                    ns = f"{namespace}:{p.namespace}"
                else:
                    ns = p.namespace or namespace
                ma = model_admin
                if ns == "admin" and str(p.pattern) in admin_models:
                    ma = admin_models[str(p.pattern)]
                walk(p.url_patterns, fmt + piece, ns, ma, convs)
            elif isinstance(p, URLPattern):
                full = fmt + piece
                params = re.findall(r"%\((\w+)\)s", full)
                name = f"{namespace}:{p.name}" if namespace and p.name else p.name
                routes.append(Route(full, params, name, model_admin, convs, p.callback))

    walk(get_resolver().url_patterns, "", None, None, {})
    return tuple(routes)


# --- values for the path parameters ------------------------------------------------


@dataclass
class Case:
    """One concrete URL: its kwargs and whose object it names."""

    kwargs: dict
    side: str | None  # the side of the object named, None for no object
    note: str = ""
    # Markers the answer may carry although their side is outside (the link's own).
    allowed_sides: tuple = ()


def _objects_for(world, model, side):
    if model is Region:
        place = world.regions.get(side, {})
        return [place["community"]] if "community" in place else []
    return world.of(side, model)


def _admin_model_objects(world, model_admin, side):
    """The side's objects of an admin's model that its unscoped queryset holds
    (a queue admin holds only the tickets of its stages)."""
    model = model_admin.model
    objs = world.of(side, model)
    if not objs:
        return []
    base = model._default_manager.filter(pk__in=[o.pk for o in objs])
    if model._meta.proxy:
        root = world.users["superuser"]
        request = type("R", (), {"user": root, "GET": {}, "POST": {}})()
        try:
            held = set(
                model_admin.get_queryset(request)
                .filter(pk__in=[o.pk for o in objs])
                .values_list("pk", flat=True)
            )
        except Exception:
            held = set(base.values_list("pk", flat=True))
        objs = [o for o in objs if o.pk in held] or objs
    return objs


def _sides(role):
    inside = INSIDE_SIDE[role]
    return ([inside] if inside and role != "anonymous" else []), list(
        NEAREST_OUTSIDE[role]
    )


class Unmapped(Exception):
    pass


def cases_for(route: Route, world, role) -> list[Case]:
    """The URLs to request for ``route`` as ``role``: an inside object, the nearest
    outside object, and a missing one, for every parameter that names an object."""
    params = set(route.params)
    if not params:
        return [Case({}, None)]
    special = _special_cases(route, world, role)
    if special is not None:
        return special
    object_kwargs = [p for p in route.params if p in ADMIN_OBJECT_KWARGS]
    if (
        route.model_admin is not None
        and object_kwargs
        and params <= set(ADMIN_OBJECT_KWARGS)
    ):
        model = route.model_admin.model
        return _object_cases(
            route,
            world,
            role,
            lambda side: _admin_model_objects(world, route.model_admin, side),
            object_kwargs,
            shared=model._meta.label_lower in SHARED_MODELS,
            model=model,
        )
    model = _view_model(route)
    if params == {"pk"} and model is not None:  # an API detail view
        return _object_cases(
            route,
            world,
            role,
            lambda side: _objects_for(world, model, side),
            ["pk"],
            shared=model._meta.label_lower in SHARED_MODELS,
            model=model,
        )
    if params == {"grid_id"}:
        # The grid page (governance.bulletin_urls): a grid of each side.
        return _object_cases(
            route,
            world,
            role,
            lambda side: (
                [world.regions[side]["grid"]]
                if "grid" in world.regions.get(side, {})
                else []
            ),
            ["grid_id"],
            shared=False,
            model=Region,
        )
    if len(params) == 1 and next(iter(params)) in KWARG_MODELS:
        kwarg = next(iter(params))
        model = KWARG_MODELS[kwarg]
        return _object_cases(
            route,
            world,
            role,
            lambda side: _objects_for(world, model, side),
            [kwarg],
            shared=False,
            model=model,
        )
    raise Unmapped(route.label)


def _view_model(route):
    """The model of a class-based view's queryset (a DRF view set), if any."""
    view_class = getattr(route.callback, "cls", None) or getattr(
        route.callback, "view_class", None
    )
    queryset = getattr(view_class, "queryset", None)
    return getattr(queryset, "model", None)


def _object_cases(route, world, role, objects_of, kwargs, *, shared, model):
    inside_sides, outside_sides = _sides(role)
    cases = [Case(dict.fromkeys(kwargs, MISSING_PK), None, "missing")]
    if shared:
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            cases.append(Case(dict.fromkeys(kwargs, obj.pk), None, "shared"))
        return cases
    for side in inside_sides or ["in"]:
        objs = objects_of(side)
        if objs:
            cases.append(
                Case(
                    dict.fromkeys(kwargs, objs[0].pk),
                    side,
                    "inside" if inside_sides else "any",
                )
            )
            break
    for side in outside_sides:
        objs = objects_of(side)
        if objs:
            cases.append(Case(dict.fromkeys(kwargs, objs[0].pk), side, "outside"))
            break
    return cases


def _special_cases(route: Route, world, role):
    """Parameters that need more than one object's primary key; None when the
    route has none of them."""
    params = set(route.params)
    inside_sides, outside_sides = _sides(role)
    outside = outside_sides[0] if outside_sides else None
    if route.name == "admin:app_list":
        labels = sorted({m._meta.app_label for m in admin.site._registry})
        return [Case({"app_label": label}, None) for label in labels]
    if params == {"object_id", "version_id"} and route.model_admin is not None:
        # A record-history version: the object's own newest version (inside,
        # outside, missing), and a missing version of an inside object.
        base = cases_for(
            Route(
                route.fmt.replace("%(version_id)s", "x"),
                ["object_id"],
                route.name,
                route.model_admin,
            ),
            world,
            role,
        )
        model = route.model_admin.model
        cases = [
            Case(
                {
                    **c.kwargs,
                    "version_id": history_version_of(
                        model, c.kwargs["object_id"], MISSING_PK
                    ),
                },
                c.side,
                c.note,
            )
            for c in base
        ]
        cases += [
            Case({**c.kwargs, "version_id": MISSING_PK}, c.side, "missing")
            for c in base
            if c.note == "inside"
        ]
        return cases
    if params == {"url"}:  # the admin's catch-all
        return [Case({"url": "no/such/page/"}, None)]
    if route.name == "admin:view_on_site":
        cases = []
        for side, note in [(s, "inside") for s in inside_sides] + [
            (outside, "outside")
        ]:
            if side is None:
                continue
            for model, objs in world.objects[side].items():
                if hasattr(model, "get_absolute_url") and objs:
                    ct = ContentType.objects.get_for_model(model)
                    cases.append(
                        Case(
                            {"content_type_id": ct.pk, "object_id": objs[0].pk},
                            side,
                            note,
                        )
                    )
        return cases
    if route.name == "tickets:evaluate":
        # The link is the key: a valid link shows its own ticket to anybody; a
        # forged one, or one used with another ticket's id, shows nothing.
        mine = world.of("in", Ticket)[0]
        other = world.of("far", Ticket)[0]
        token = evaluation_token(ticket=mine)
        return [
            Case({"ticket_id": mine.pk, "token": token}, None, "link", ("in",)),
            Case({"ticket_id": other.pk, "token": token}, "far", "outside"),
            Case({"ticket_id": mine.pk, "token": "forged"}, "in", "outside"),
        ]
    if params in ({"grid_id"}, {"building_id"}):
        # A grid's poster, a building's drawing: that node of each side.
        level = "grid" if params == {"grid_id"} else "building"
        kwarg = next(iter(params))
        return _object_cases(
            route,
            world,
            role,
            lambda side: (
                [world.regions[side][level]]
                if level in world.regions.get(side, {})
                else []
            ),
            [kwarg],
            shared=False,
            model=Region,
        )
    if route.name == "m:tickets:report_public":
        # 码上办: a poster's signed link opens its own grid's form to anybody; a
        # forged one, or one of a node that is not a grid, shows nothing.
        from tickets.phone_field import poster_token

        mine = world.regions["in"]["grid"]
        return [
            Case({"token": poster_token(mine)}, None, "link", ("in",)),
            Case(
                {"token": poster_token(world.regions["far"]["community"])},
                "far",
                "outside",
            ),
            Case({"token": "forged"}, "in", "outside"),
        ]
    if route.name and route.name.startswith("open311:"):
        # Open311 (no account, each format): the catalogue is shared; a request
        # is public only when posted through Open311, which no side's ticket
        # was, so each side's ticket number is refused like a missing one.
        from tickets.models import Category

        cases = []
        for fmt in ("json", "xml"):
            if "service_code" in params:
                code = Category.objects.order_by("pk").first().service_code
                cases += [
                    Case({"format": fmt, "service_code": code}, None, "shared"),
                    Case({"format": fmt, "service_code": "missing"}, None, "missing"),
                ]
            elif "service_request_id" in params:
                cases += [
                    Case(
                        {"format": fmt, "service_request_id": t.number},
                        side,
                        "outside",
                    )
                    for side in ("in", "far")
                    for t in world.of(side, Ticket)[:1]
                ]
            elif "token" in params:
                missing = "00000000-0000-0000-0000-000000000000"
                cases.append(Case({"format": fmt, "token": missing}, None, "missing"))
            else:
                cases.append(Case({"format": fmt}, None))
        return cases
    if route.name == "api:hotline:status":
        # The 12345 platform's read-back: signed by the platform only, so every
        # role's session (and no session) is refused, whatever side's number.
        from tickets.models import HotlineInbound

        return [
            Case({"number": inbound.number}, side, "outside")
            for side in ("in", "far")
            for inbound in world.of(side, HotlineInbound)[:1]
        ] + [Case({"number": "missing-number"}, None, "missing")]
    if route.name == "survey:answer":
        # 以下评上: a signed survey link opens its own grid's survey to anybody;
        # one naming a node that is not a grid, or forged, shows nothing.
        from governance.survey import survey_token

        def token(region):
            return survey_token(
                grid_id=region.pk,
                kind="month",
                start=dt.date(2026, 11, 1),
                respondent="h0",
            )

        return [
            Case({"token": token(world.regions["in"]["grid"])}, None, "link", ("in",)),
            Case({"token": token(world.regions["far"]["community"])}, "far", "outside"),
            Case({"token": "forged"}, "in", "outside"),
        ]
    if route.name == "m:tickets:track":
        # The tracking link, like the evaluation link: its own ticket to anybody.
        from tickets.services.selfreport import tracking_token

        mine = world.of("in", Ticket)[0]
        other = world.of("far", Ticket)[0]
        token = tracking_token(ticket=mine)
        return [
            Case({"ticket_id": mine.pk, "token": token}, None, "link", ("in",)),
            Case({"ticket_id": other.pk, "token": token}, "far", "outside"),
            Case({"ticket_id": mine.pk, "token": "forged"}, "in", "outside"),
        ]
    if route.name == "points:rankings_public":
        # The signed 公示 link: its own community's rankings for anybody; the
        # signature used with another community, or forged, shows nothing.
        mine = world.regions["in"]["community"]
        other = world.regions["far"]["community"]
        signature = rankings_signature(mine)
        return [
            Case(
                {"community_id": mine.pk, "signature": signature},
                None,
                "link",
                ("in", "top"),
            ),
            Case({"community_id": other.pk, "signature": signature}, "far", "outside"),
            Case({"community_id": mine.pk, "signature": "forged"}, "in", "outside"),
        ]
    if route.name == "micro_project_notice_photo":
        # A milestone photo of the 民生微实事 notice: behind the community's
        # signed link; a forged link or a missing milestone is a 404.
        mine = world.regions["in"]["community"]
        signature = notice_signature(mine)
        return [
            Case(
                {
                    "community_id": mine.pk,
                    "signature": signature,
                    "milestone_id": MISSING_PK,
                },
                None,
                "missing",
            ),
            Case(
                {"community_id": mine.pk, "signature": "forged", "milestone_id": 1},
                "in",
                "outside",
            ),
        ]
    if route.name in (
        "partyorg:deliberation_notice",
        "partyorg:micro_project_notice",
    ):
        # 议事公开 and 民生微实事公开: the signed link opens its own community's
        # notice to anybody; the signature used with another community, or
        # forged, shows nothing.
        mine = world.regions["in"]["community"]
        other = world.regions["far"]["community"]
        signature = notice_signature(mine)
        return [
            Case(
                {"community_id": mine.pk, "signature": signature},
                None,
                "link",
                ("in", "top"),
            ),
            Case({"community_id": other.pk, "signature": signature}, "far", "outside"),
            Case({"community_id": mine.pk, "signature": "forged"}, "in", "outside"),
        ]
    if (
        route.model_admin is not None
        and route.model_admin.model._meta.label_lower in ADMIN_ONLY_MODELS
        and params == {"pk"}
    ):
        # An administrators' page (a TOTP device's QR code): refused to every area
        # role whatever the id; a missing id must not be a 500 either.
        return [Case({"pk": MISSING_PK}, None, "missing")]
    if route.name == "points:statement":
        from grids.models import Resident

        mine = world.of("in", Resident)[0]
        return [
            Case({"token": statement_token(mine)}, None, "link", ("in",)),
            Case({"token": statement_token(MISSING_PK)}, None, "missing"),
            Case({"token": "forged"}, "in", "outside"),
        ]
    if "action" in params and (
        route.model_admin is not None or route.name == "m:tickets:act"
    ):
        from tickets.actions import SPECS

        base = cases_for(
            Route(
                route.fmt.replace("%(action)s", "x"),
                [p for p in route.params if p != "action"],
                route.name,
                route.model_admin,
            ),
            world,
            role,
        )
        return [
            Case({**case.kwargs, "action": action}, case.side, case.note)
            for case in base
            for action in SPECS
            if case.note in ("inside", "outside") or action == next(iter(SPECS))
        ]
    if params == {"path"} and route.fmt.startswith(settings.MEDIA_URL.lstrip("/")):
        cases = []
        for side, note in [(s, "inside") for s in inside_sides] + [
            (outside, "outside")
        ]:
            if side is None:
                continue
            for objs in world.objects[side].values():
                for obj in objs:
                    for f in obj._meta.fields:
                        value = getattr(obj, f.attname, None)
                        if hasattr(value, "name") and value.name:
                            cases.append(Case({"path": value.name}, side, note))
        return cases
    return None


# --- checks ----------------------------------------------------------------------


def _refusal_messages() -> list[re.Pattern]:
    texts = [
        "This object does not exist or lies outside your area.",
        "%(name)s with ID “%(key)s” doesn’t exist. Perhaps it was deleted?",
    ]
    patterns = []
    for text in texts:
        for lang in ("en", settings.LANGUAGE_CODE):
            with translation.override(lang):
                translated = translation.gettext(text)
            regex = re.escape(translated)
            regex = regex.replace(re.escape("%(name)s"), ".*").replace(
                re.escape("%(key)s"), ".*"
            )
            patterns.append(re.compile(regex))
    return patterns


def _messages(response) -> list[str]:
    storage = getattr(response.wsgi_request, "_messages", None)
    return [str(m) for m in getattr(storage, "_queued_messages", [])]


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return ""
    text = response.content.decode("utf-8", "replace")
    return text + " " + response.get("Location", "")


LOGIN_PATHS = ("/admin/login/", "/accounts/login/", "/m/login/")


def _is_refusal(client, response, refusals, hops=3) -> tuple[bool, str]:
    status = response.status_code
    # 401: the API refuses a request without credentials (a token or a login).
    if status in (400, 401, 403, 404, 405, 410):
        return True, ""
    if status in (301, 302, 303):
        parts = urlsplit(response["Location"])
        location = parts.path + (f"?{parts.query}" if parts.query else "")
        if any(p.search(m) for m in _messages(response) for p in refusals):
            return True, ""
        if location.split("?")[0].endswith(LOGIN_PATHS) or any(
            location.startswith(p) for p in LOGIN_PATHS
        ):
            return True, ""
        if hops and location.startswith("/"):
            return _is_refusal(client, client.get(location), refusals, hops - 1)
        return False, f"redirect to {location} with {_messages(response)}"
    return False, f"status {status}, messages {_messages(response)}"


class RowWatch:
    """A digest of the outside objects' rows (and the row counts of their tables)
    in one query, to tell whether a request changed or added any."""

    def __init__(self, world, role):
        self.tables = []
        by_model = {}
        for _side, obj in world.outside_objects(role):
            by_model.setdefault(type(obj)._meta.concrete_model, set()).add(obj.pk)
        parts, params = [], []
        for model, pks in sorted(by_model.items(), key=lambda kv: kv[0]._meta.label):
            table = connection.ops.quote_name(model._meta.db_table)
            pk = connection.ops.quote_name(model._meta.pk.column)
            parts.append(
                f"(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.{pk}), ''))"
                f" FROM {table} t WHERE t.{pk} = ANY(%s))"
            )
            parts.append(f"(SELECT count(*) FROM {table})")
            params.append(list(pks))
            self.tables.append(model._meta.label)
        self.sql = "SELECT " + ", ".join(parts) if parts else ""
        self.params = params

    def digest(self):
        if not self.sql or connection.vendor != "postgresql":
            return ()
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            return cursor.fetchone()

    def changed(self, before, after, *, counts: bool) -> list[str]:
        out = []
        for i, label in enumerate(self.tables):
            if before[2 * i] != after[2 * i]:
                out.append(f"{label} rows changed")
            elif counts and before[2 * i + 1] != after[2 * i + 1]:
                out.append(f"{label} rows added")
        return out


def _login(client, world, role):
    user = world.users[role]
    if user is not None:
        client.force_login(user)


def _fk_prefills(model_admin, world, role):
    """``?field=<outside pk>`` for the add form's foreign keys: the label of an
    outside object must not be rendered in the widget."""
    _inside, outside_sides = _sides(role)
    out = []
    for f in model_admin.model._meta.get_fields():
        if not (f.is_relation and f.concrete and (f.many_to_one or f.one_to_one)):
            continue
        related = f.related_model
        for side in outside_sides:
            objs = _objects_for(world, related, side) if related is not Region else []
            if related is Region:
                objs = [
                    world.regions[side].get("grid") or world.regions[side]["street"]
                ]
            if objs:
                out.append(({f.name: objs[0].pk}, side))
                break
    return out


def walk(world, role, routes) -> tuple[list[str], int]:
    """Request every route as ``role``; returns the failures and the number of
    requests made."""
    client = Client(raise_request_exception=False)
    _login(client, world, role)
    refusals = _refusal_messages()
    forbidden = world.outside_markers(role)
    watch = RowWatch(world, role)
    failures, requests = [], 0

    last = [watch.digest()]

    def request(method, url, data=None, *, case, what):
        nonlocal requests
        before = last[0]
        response = getattr(client, method)(url, data or {})
        requests += 1
        after = last[0] = watch.digest()
        label = f"{role} {method.upper()} {url} [{what}]"
        if response.status_code >= 500:
            exc = getattr(response, "exc_info", None)
            cause = f"{exc[0].__name__}: {str(exc[1])[:160]}" if exc else "500"
            failures.append(f"500 {label}: {cause}")
            return response
        allowed = set(case.allowed_sides) if case else set()
        body = _body(response)
        shown = [m for m in forbidden if m in body and m.split("-")[1] not in allowed]
        if shown:
            failures.append(f"SHOWN {label}: {sorted(shown)[:6]}")
        if before:
            changed = watch.changed(
                before, after, counts=case is not None and case.note == "outside"
            )
            if changed:
                failures.append(f"CHANGED {label}: {changed}")
        if case is not None and case.note == "outside":
            ok, why = _is_refusal(client, response, refusals)
            if not ok:
                failures.append(f"NOT REFUSED {label}: {why}")
        if role != "anonymous" and not client.session.get("_auth_user_id"):
            _login(client, world, role)
        return response

    for route in routes:
        try:
            cases = cases_for(route, world, role)
        except Unmapped:
            failures.append(f"UNMAPPED pattern {route.label} ({route.name})")
            continue
        in_admin = route.model_admin is not None
        post = route.name not in NO_POST and not (
            in_admin
            and (route.name is None or route.name.endswith(("_history", "_changelist")))
        )
        is_action = "action" in route.params
        for i, case in enumerate(cases):
            url = route.url(**case.kwargs)
            what = case.note or "page"
            if not is_action:  # an action view is a POST target
                request("get", url, case=case, what=what)
            # Empty posts to the admin's own forms are the fuzz's work
            # (test_form_fuzz); here they try outside and missing objects.
            if post and (not in_admin or case.note in ("outside", "missing") or i < 2):
                request("post", url, case=case, what=what)
            if case.note == "outside" and route.name and route.name.endswith("_delete"):
                request("post", url, {"post": "yes"}, case=case, what="confirm delete")
        ma = route.model_admin
        if ma is None or not route.name:
            continue
        if route.name.endswith("_add"):
            for prefill, side in _fk_prefills(ma, world, role):
                request(
                    "get",
                    route.url()
                    + "?"
                    + "&".join(f"{k}={v}" for k, v in prefill.items()),
                    case=Case(prefill, side, "prefill"),
                    what=f"prefill {side}",
                )
        if route.name.endswith("_changelist"):
            _in, outside_sides = _sides(role)
            objs = next(
                (o for s in outside_sides if (o := _admin_model_objects(world, ma, s))),
                [],
            )
            request("get", route.url() + "?q=MK", case=None, what="search")
            if objs:
                for _func, name, _desc in ma._get_base_actions():
                    request(
                        "post",
                        route.url(),
                        {
                            "action": name,
                            "_selected_action": [objs[0].pk],
                            "index": "0",
                            "post": "yes",
                        },
                        case=Case({}, "outside", "action"),
                        what=f"action {name} on outside",
                    )
    return failures, requests


def test_every_url_parameter_is_mapped(shared_world):
    """A new URL whose path parameter the walk cannot fill fails here by name."""
    unmapped = []
    for route in all_routes():
        for role in ("street_staff",):
            try:
                cases_for(route, shared_world, role)
            except Unmapped:
                unmapped.append(f"{route.label} ({route.name})")
    assert not unmapped, "map these path parameters in test_scope_walk.py:\n" + (
        "\n".join(unmapped)
    )


def test_every_admin_model_has_objects_on_every_side_or_is_shared(shared_world):
    """A new scoped model must get objects in the world (tests/security/conftest.py)
    or be listed as shared, else its outside objects would go untested."""
    missing = []
    for model in admin.site._registry:
        if model._meta.label_lower in SHARED_MODELS:
            continue
        if model._meta.label_lower in ADMIN_ONLY_MODELS:
            url = reverse(
                f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
            )
            for role, user in shared_world.users.items():
                if user is None or user.is_superuser:
                    continue
                client = Client()
                client.force_login(user)
                response = client.get(url)
                # 403 for staff; accounts without admin access go to the login.
                refused = response.status_code == 403 or (
                    response.status_code == 302 and "login" in response["Location"]
                )
                if not refused:
                    missing.append(
                        f"{model._meta.label} answers {response.status_code} to {role}"
                    )
            continue
        # Street-level rows (deadline classes) live on ``top``, not in a community.
        if not shared_world.of("far", model):
            missing.append(f"{model._meta.label} on side far")
        if not (shared_world.of("in", model) or shared_world.of("top", model)):
            missing.append(f"{model._meta.label} on side in (or top)")
    assert not missing, "\n".join(missing)


@pytest.fixture
def quiet_request_log():
    """Every refusal is a logged warning with a traceback: keep the walk's log
    small (a 500 is recorded by the walk itself)."""
    logging.disable(logging.CRITICAL)
    yield
    logging.disable(logging.NOTSET)


# --- the walk, split so that xdist spreads it over its workers ---------------------
# Every role walks every pattern; the patterns, in the resolver's order, are cut
# into chunks of GROUP_SIZE, so that each (role, chunk) is a test of a few seconds
# that xdist can hand to either worker (the world is built once per module and
# worker). A chunk is named by its number and its first pattern's area (an admin
# app, else the path's first segment).
GROUP_SIZE = 25


def _group_key(route: Route) -> str:
    parts = route.fmt.split("/")
    if parts[0] == "admin" and len(parts) > 2 and "%" not in parts[1]:
        return f"admin/{parts[1]}"
    return parts[0] or "root"


def route_groups(routes=None) -> dict[str, list[Route]]:
    """Chunk id → its patterns, in the resolver's order; every pattern of
    ``routes`` (all the project's) in exactly one chunk."""
    routes = all_routes() if routes is None else routes
    return {
        f"{n:02d}-{_group_key(routes[i])}": routes[i : i + GROUP_SIZE]
        for n, i in enumerate(range(0, len(routes), GROUP_SIZE), start=1)
    }


# Read from the resolver when the tests are collected: a URL added later falls
# into a chunk (or makes a new one) without editing this file.
ROUTE_CHUNKS = list(route_groups())


def test_the_chunks_hold_every_pattern_once():
    routes = all_routes()
    chunked = [r for chunk in route_groups(routes).values() for r in chunk]
    assert Counter((r.fmt, r.name) for r in chunked) == Counter(
        (r.fmt, r.name) for r in routes
    )
    assert list(route_groups(routes)) == ROUTE_CHUNKS


@pytest.mark.parametrize("chunk", ROUTE_CHUNKS)
@pytest.mark.parametrize("role", ROLES)
def test_scope_walk(shared_world, role, chunk, quiet_request_log, settings):
    # Sessions in the cookie: the walk measures the views, not session queries.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    failures, requests = walk(shared_world, role, route_groups()[chunk])
    print(f"{role} {chunk}: {requests} requests, {len(failures)} failures")
    assert not failures, f"{len(failures)} failures in {requests} requests:\n" + (
        "\n".join(failures)
    )

"""Fixtures of the security walks: a world of two districts with objects of every
kind on each side of every role's scope boundary, each carrying a unique marker.

Sides (where an object lives):
  ``top``  district and street of the first district (甲区)
  ``in``   its first community and that community's grid: the roles' own area
  ``sib``  its second community and grid: a sibling of the roles' community
  ``far``  the second district (乙区), street, community and grid

Every object gets a marker ``MK-<side>-<what>-Q`` in a field its pages show (a
name, a title, a description, a note). A role must never see a marker of a side
outside its scope (``OUTSIDE_SIDES``), on any page, in any list, widget or label.
"""

import datetime as dt
import itertools

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from governance import services as rating_services
from governance.models import GridRating, RatingPublication
from grids import services
from grids import services as grid_services
from grids.choices import RegionLevel, UserRole
from grids.models import AuditEntry, Notification, PersonalDataAccess
from partyorg import services as party_services
from partyorg.choices import OrgType
from partyorg.microprojects import services as project_services
from partyorg.sites import services as site_services
from partyorg.whistle import services as whistle_services
from points import services as points_services
from tests.grids.factories import (
    GridAssignmentFactory,
    GridWorkerFactory,
    HouseholdFactory,
    PatrolFactory,
    RegionFactory,
    ResidentFactory,
    UserFactory,
)
from tests.partyorg.factories import (
    PartyMemberFactory,
    PartyOrgFactory,
    RegistrationFactory,
    ServiceRecordFactory,
    png_upload,
)
from tests.points.factories import RuleItemFactory, next_key
from tests.tickets.factories import CategoryFactory, walk_to
from tickets.choices import DeadlineUnit, Stage
from tickets.models import Open311Client
from tickets.services import catalogue

SIDES = ("top", "in", "sib", "far")

# The sides whose objects a role must not see. The roles' area is the ``in``
# community (its grid for the grid worker); ancestors of one's own area (``top``
# for the roles inside 甲区) are not "outside".
ROLES = (
    "anonymous",
    "grid_worker",
    "community_staff",
    "street_staff",
    "supervisor_other_district",
    "superuser",
)
OUTSIDE_SIDES = {
    "anonymous": ("top", "in", "sib", "far"),
    "grid_worker": ("sib", "far"),
    "community_staff": ("sib", "far"),
    "street_staff": ("far",),
    "supervisor_other_district": ("top", "in", "sib"),
    "superuser": (),
}
# Where each role's own objects live (an object of this side is "inside").
INSIDE_SIDE = {
    "anonymous": None,
    "grid_worker": "in",
    "community_staff": "in",
    "street_staff": "in",
    "supervisor_other_district": "far",
    "superuser": "in",
}

_phones = itertools.count(1)


def marker(side: str, what: str) -> str:
    return f"MK-{side}-{what}-Q"


def _phone() -> str:
    return f"135{next(_phones):08d}"


class World:
    """The objects of every side, by side and model, and their markers."""

    def __init__(self):
        self.objects: dict[str, dict[type, list]] = {s: {} for s in SIDES}
        self.markers: dict[str, list[str]] = {s: [] for s in SIDES}
        self.regions: dict[str, dict[str, object]] = {}
        self.users: dict[str, object] = {}

    def add(self, side, obj, what=None):
        self.objects[side].setdefault(type(obj)._meta.concrete_model, []).append(obj)
        if what:
            self.markers[side].append(marker(side, what))
        return obj

    def of(self, side, model):
        """The objects of ``model`` (its concrete model) on ``side``."""
        return self.objects[side].get(model._meta.concrete_model, [])

    def outside_markers(self, role):
        return [m for side in OUTSIDE_SIDES[role] for m in self.markers[side]]

    def outside_objects(self, role):
        return [
            (side, obj)
            for side in OUTSIDE_SIDES[role]
            for objs in self.objects[side].values()
            for obj in objs
        ]


def _region(world, side, what, **kwargs):
    region = RegionFactory(name=marker(side, what), **kwargs)
    world.add(side, region, what)
    return region


def _build_regions(world):
    a_district = _region(world, "top", "district", level=RegionLevel.DISTRICT)
    a_street = _region(
        world, "top", "street", level=RegionLevel.STREET, parent=a_district
    )
    places = {"top": {"district": a_district, "street": a_street}}
    for side in ("in", "sib"):
        community = _region(
            world, side, "community", level=RegionLevel.COMMUNITY, parent=a_street
        )
        grid = _region(world, side, "grid", level=RegionLevel.GRID, parent=community)
        places[side] = {"street": a_street, "community": community, "grid": grid}
    b_district = _region(world, "far", "district", level=RegionLevel.DISTRICT)
    b_street = _region(
        world, "far", "street", level=RegionLevel.STREET, parent=b_district
    )
    b_community = _region(
        world, "far", "community", level=RegionLevel.COMMUNITY, parent=b_street
    )
    b_grid = _region(world, "far", "grid", level=RegionLevel.GRID, parent=b_community)
    places["far"] = {
        "district": b_district,
        "street": b_street,
        "community": b_community,
        "grid": b_grid,
    }
    # A building in each grid (the building view, 电子装户图).
    for side in ("in", "sib", "far"):
        places[side]["building"] = _region(
            world,
            side,
            "building",
            level=RegionLevel.BUILDING,
            parent=places[side]["grid"],
        )
    for nodes in places.values():
        for node in nodes.values():
            node.refresh_from_db()
    world.regions = places


def _user(world, side, what, **kwargs):
    user = UserFactory(
        first_name=marker(side, what), username=marker(side, what), **kwargs
    )
    world.add(side, user, what)
    return user


def _build_side(world, side, *, street_staff, ticket_category, rule_item):
    """Objects of every kind in the side's community and grid, written through
    the services where a service owns the write."""
    place = world.regions[side]
    community, grid = place["community"], place["grid"]
    staff = _user(world, side, "staff", role=UserRole.COMMUNITY_STAFF, region=community)
    worker_user = _user(
        world,
        side,
        "workeruser",
        role=UserRole.GRID_WORKER,
        region=grid,
        is_staff=False,
    )
    worker = world.add(
        side,
        GridWorkerFactory(name=marker(side, "gridworker"), phone=_phone()),
        "gridworker",
    )
    world.add(side, GridAssignmentFactory(worker=worker, grid=grid))
    household = world.add(
        side,
        HouseholdFactory(region=grid, address=marker(side, "household")),
        "household",
    )
    resident = world.add(
        side,
        ResidentFactory(household=household, name=marker(side, "resident")),
        "resident",
    )
    # A flat in the grid's building (the building view, 电子装户图).
    flat = world.add(
        side,
        HouseholdFactory(
            region=place["building"], address=marker(side, "flat") + "1单元101室"
        ),
        "flat",
    )
    world.add(
        side,
        ResidentFactory(household=flat, name=marker(side, "flatresident")),
        "flatresident",
    )
    world.add(
        side,
        PatrolFactory(
            worker=worker_user,
            region=grid,
            household=household,
            notes=marker(side, "patrol"),
        ),
        "patrol",
    )
    world.add(
        side,
        Notification.objects.create(
            recipient=staff, title=marker(side, "notification")
        ),
        "notification",
    )
    # An API token of the side's staff account (made by an administrator).
    from grids.services.api_tokens import api_token_create

    token_maker = UserFactory(role="", region=None, is_superuser=True)
    world.add(
        side,
        api_token_create(actor=token_maker, user=staff, name=marker(side, "apitoken"))[
            0
        ],
        "apitoken",
    )
    # A look at the resident's ID number (显示), in the access log.
    services.personal_data_reveal(
        actor=staff,
        resident_id=resident.pk,
        fields=["id_number"],
        reason=marker(side, "piiaccess"),
    )
    world.add(side, PersonalDataAccess.objects.latest("pk"), "piiaccess")

    # --- tickets: several stages, one with a photo --------------------------------
    side_department = world.add(
        side,
        catalogue.department_create(
            actor=street_staff, name=marker(side, "department"), region=community
        ),
        "department",
    )
    # An Open311 client key held by the side's community (the service issues
    # keys for streets; the walk only needs a row of the side's area).
    world.add(
        side,
        Open311Client.objects.create(
            name=marker(side, "open311client"),
            region=community,
            key_digest=f"walk-{side}",
            key_prefix=side[:8],
        ),
        "open311client",
    )
    tree = {
        "street": place["street"],
        "communities": [community],
        "grids": [grid],
    }
    for stage in (
        Stage.HANDLED,  # first: the ticket the walk puts in ticket URLs
        Stage.RECEIVED,
        Stage.TRIAGED,
        Stage.DISPATCHED,
        Stage.ACCEPTED,
        Stage.CLOSED,
    ):
        what = f"ticket{stage}"
        ticket = walk_to(
            stage,
            tree=tree,
            street_staff=street_staff,
            community_staff=staff,
            handler=worker_user,
            category=ticket_category,
            description=marker(side, what),
            reporter_name=marker(side, f"reporter{stage}"),
            reporter_phone=_phone(),
            photos=[png_upload()] if stage == Stage.HANDLED else [],
        )
        world.add(side, ticket, what)
        world.markers[side].append(marker(side, f"reporter{stage}"))
        for photo in ticket.photos.all():
            world.add(side, photo)
        for event in ticket.events.all():
            world.add(side, event)
        for evaluation in ticket.evaluations.all():
            world.add(side, evaluation)
        assessment = getattr(ticket, "assessment", None)
        if assessment is not None:
            world.add(side, assessment)

    # --- points ---------------------------------------------------------------------
    policy = points_services.policy_set(
        actor=street_staff,
        community=community,
        pool_by_household=False,
        expire_at_year_end=False,
    )
    world.add(side, policy)
    award, _ = points_services.award_propose(
        actor=worker_user,
        resident_id=resident.pk,
        rule_item_id=rule_item.pk,
        awarded_on=timezone.localdate(),
        idempotency_key=next_key(),
        note=marker(side, "award"),
    )
    world.add(side, award, "award")
    entry = points_services.award_approve(actor=staff, award_id=award.pk)
    world.add(side, entry)
    world.add(side, entry.account)
    for event in award.events.all():
        world.add(side, event)
    pending, _ = points_services.award_propose(
        actor=worker_user,
        resident_id=resident.pk,
        rule_item_id=rule_item.pk,
        awarded_on=timezone.localdate() - dt.timedelta(days=1),
        idempotency_key=next_key(),
        note=marker(side, "awardpending"),
    )
    world.add(side, pending, "awardpending")
    prize = world.add(
        side,
        points_services.prize_create(
            actor=staff, region=community, name=marker(side, "prize"), price=5, stock=9
        ),
        "prize",
    )
    redemption = points_services.redemption_create(
        actor=staff, resident_id=resident.pk, prize_id=prize.pk
    )
    world.add(side, redemption)
    for event in redemption.events.all():
        world.add(side, event)
    for ledger in redemption.ledger_entries.all():
        world.add(side, ledger)

    # --- partyorg -------------------------------------------------------------------
    org = world.add(
        side,
        PartyOrgFactory(
            name=marker(side, "partyorg"),
            org_type=OrgType.COMMUNITY_COMMITTEE,
            region=community,
        ),
        "partyorg",
    )
    member = world.add(
        side,
        PartyMemberFactory(
            name=marker(side, "member"), organisation=org, phone=_phone()
        ),
        "member",
    )
    registration = world.add(
        side,
        RegistrationFactory(
            community=community,
            member__name=marker(side, "regmember"),
            member__phone=_phone(),
        ),
    )
    world.add(side, registration.member, "regmember")
    world.add(
        side,
        ServiceRecordFactory(
            registration=registration, task=marker(side, "service"), recorded_by=staff
        ),
        "service",
    )
    wish = party_services.wish_post(
        actor=worker_user,
        region=grid,
        title=marker(side, "wish"),
        beneficiary="独居老人",
        resident=resident,
    )
    wish = party_services.wish_claim(actor=staff, wish_id=wish.pk, member=member)
    world.add(side, wish, "wish")
    # 吹哨报到: a whistle to the side's department and registered member.
    whistle = whistle_services.whistle_blow(
        actor=worker_user,
        region=grid,
        title=marker(side, "whistle"),
        meeting_point="东门",
        report_within_minutes=30,
        departments=[side_department],
        members=[registration.member],
    )
    world.add(side, whistle, "whistle")
    world.add(
        side,
        site_services.service_site_create(
            actor=staff,
            name=marker(side, "site"),
            kind="party_mass_centre",
            region=community,
            address="中心路1号",
            latitude="36.680000",
            longitude="117.000000",
        ),
        "site",
    )
    project = project_services.micro_project_propose(
        actor=worker_user,
        region=grid,
        title=marker(side, "project"),
        description="加装扶手",
        proposed_by_name="张桂芳",
    )
    world.add(side, project, "project")
    for call in whistle.calls.all():
        world.add(side, call)
    # A background import by the side's staff (queued: nothing runs in the
    # world's transaction); its page, status and download are the staff's own.
    job = grid_services.data_job_import_submit(
        actor=staff,
        resource="households",
        upload=SimpleUploadedFile(
            f"{marker(side, 'datajob')}.csv",
            f"region_code,address\n{grid.code or ''},{side}路1号\n".encode(),
        ),
        language="zh-hans",
    )
    world.add(side, job, "datajob")
    for event in wish.events.all():
        world.add(side, event)
    _build_hotline_side(
        world, side, street_staff=street_staff, ticket_category=ticket_category
    )
    _build_deliberation(
        world, side, staff=staff, worker_user=worker_user, worker=worker
    )
    return {"staff": staff, "worker_user": worker_user, "resident": resident}


def _build_hotline_platforms(world):
    """A 12345 platform serving each street (an administrator makes them)."""
    from tickets.hotline import services as hotline_services

    root = UserFactory(role="", region=None, is_superuser=True)
    world.hotline_platforms = {}
    for side in ("top", "far"):
        platform, _secret = hotline_services.hotline_platform_create(
            actor=root,
            name=marker(side, "hotlineplatform"),
            code=f"mk-{side}",
            region=world.regions[side]["street"],
            callback_url="http://127.0.0.1:9/callback",
        )
        world.add(side, platform, "hotlineplatform")
        world.add(side, platform.account)
        world.hotline_platforms[side] = platform


def _build_hotline_side(world, side, *, street_staff, ticket_category):
    """A push of the side's platform placed in the side's grid (an area
    mapping), triaged (a callback in the outbox); the category mapping is the
    platform's (its street's side)."""
    from tickets import services as ticket_services
    from tickets.hotline import services as hotline_services

    platform_side = "far" if side == "far" else "top"
    platform = world.hotline_platforms[platform_side]
    grid = world.regions[side]["grid"]
    if not platform.category_mappings.exists():
        world.add(
            platform_side,
            hotline_services.hotline_category_mapping_save(
                actor=street_staff,
                platform=platform,
                code=marker(platform_side, "hotlinecategory"),
                category=ticket_category,
            ),
            "hotlinecategory",
        )
    world.add(
        side,
        hotline_services.hotline_area_mapping_save(
            actor=street_staff,
            platform=platform,
            area_code=marker(side, "hotlinearea"),
            region=grid,
        ),
        "hotlinearea",
    )
    inbound, _new = hotline_services.hotline_ticket_receive(
        platform=platform,
        push=hotline_services.HotlinePush(
            number=marker(side, "hotline"),
            received_at=timezone.now(),
            content=marker(side, "hotlineticket"),
            caller_phone=_phone(),
            area_code=marker(side, "hotlinearea"),
        ),
    )
    world.add(side, inbound, "hotline")
    world.add(side, inbound.ticket, "hotlineticket")
    ticket_services.ticket_triage(
        actor=street_staff,
        ticket_id=inbound.ticket.pk,
        category=ticket_category,
        region=grid,
        responsible_leader=street_staff,
    )
    for event in inbound.ticket.events.all():
        world.add(side, event)
    for delivery in inbound.ticket.hotline_deliveries.all():
        world.add(side, delivery)


def _build_deliberation(world, side, *, staff, worker_user, worker):
    """A council with a seat, a topic at its decision step with an open vote
    and one ballot cast, through the deliberation services."""
    from partyorg.deliberation import services as deliberation
    from partyorg.deliberation.choices import (
        CommunityKind,
        CouncilKind,
        MemberSide,
        TopicKind,
    )

    place = world.regions[side]
    world.add(
        side,
        deliberation.community_kind_set(
            actor=staff, community=place["community"], kind=CommunityKind.CLOSED_ESTATE
        ),
    )
    council = deliberation.council_create(
        actor=staff,
        region=place["community"],
        name=marker(side, "council"),
        kind=CouncilKind.RESIDENTS,
    )
    world.add(side, council, "council")
    seat = deliberation.council_member_add(
        actor=staff,
        council_id=council.pk,
        side=MemberSide.GRID_WORKER,
        name=marker(side, "councilmember"),
        grid_worker=worker,
    )
    world.add(side, seat, "councilmember")
    topic = deliberation.topic_raise(
        actor=worker_user, region=place["grid"], title=marker(side, "topic")
    )
    deliberation.topic_screen(
        actor=staff,
        topic_id=topic.pk,
        kind=TopicKind.PUBLIC_AFFAIRS,
        council=council,
    )
    today = timezone.localdate()
    for step in topic.steps[:3]:
        world.add(
            side,
            deliberation.topic_step_record(
                actor=staff,
                topic_id=topic.pk,
                step=step,
                owner=marker(side, "topicstep"),
                participants="居民代表",
                minutes="会议记录",
                started_on=today,
                completed_on=today,
            ),
        )
    topic.refresh_from_db()
    world.add(side, topic, "topic")
    item = deliberation.vote_item_open(
        actor=staff, topic_id=topic.pk, text=marker(side, "voteitem")
    )
    world.add(side, item, "voteitem")
    for ballot in item.ballots.all():
        world.add(side, ballot)
    deliberation.ballot_cast(actor=staff, ballot_id=item.ballots.first().pk, vote="for")


RATING_MONTH = dt.date(2026, 11, 1)


def _build_ratings(world, *, top_staff, far_staff):
    """月评比: each street's rule set, the grids' published ratings of a month,
    an appeal of each side's grid, decided (upheld) for the in and far sides."""
    for side, keeper in (("top", top_staff), ("far", far_staff)):
        world.add(
            side,
            rating_services.ruleset_save_version(
                actor=keeper,
                region=world.regions[side]["street"],
                note=marker(side, "ruleset"),
            ),
            "ruleset",
        )
    rating_services.rate_grids(month=RATING_MONTH)
    for side, keeper in (("top", top_staff), ("far", far_staff)):
        street = world.regions[side]["street"]
        rating_services.ratings_publish(actor=keeper, street=street, month=RATING_MONTH)
        world.add(
            side, RatingPublication.objects.get(street=street, month=RATING_MONTH)
        )
    for side in ("in", "sib", "far"):
        rating = GridRating.objects.get(
            grid=world.regions[side]["grid"], month=RATING_MONTH
        )
        world.add(side, rating)
        appeal = world.add(
            side,
            rating_services.rating_appeal_file(
                actor=world.actors[side]["staff"],
                rating_id=rating.pk,
                reason=marker(side, "appeal"),
            ),
            "appeal",
        )
        if side in ("in", "far"):
            decision = world.add(
                side,
                rating_services.rating_appeal_decide(
                    actor=far_staff if side == "far" else top_staff,
                    appeal_id=appeal.pk,
                    upheld=True,
                    new_class="A",
                    note=marker(side, "decision"),
                ),
                "decision",
            )
            world.add(side, decision.class_change)
    _build_survey_and_appraisals(world)


def _build_survey_and_appraisals(world):
    """以下评上 and 五星级网格员: each side's grid has a resident's survey answer
    and a sent link; each side's worker a manual score (by the side's staff)
    and the appraisal it computes."""
    from governance.appraisal import appraisal_input_record
    from governance.models import SurveyAnswer, SurveySending, WorkerAppraisal
    from grids.models import GridWorker, Household

    now = timezone.now()
    for side in ("in", "sib", "far"):
        grid = world.regions[side]["grid"]
        household = world.of(side, Household)[0]
        world.add(
            side,
            SurveyAnswer.objects.create(
                grid=grid,
                period_kind="month",
                period_start=RATING_MONTH,
                respondent=f"h{household.pk}",
                household=household,
                attitude=5,
                conduct=4,
                effect=4,
                comment=marker(side, "surveyanswer"),
                answered_at=now,
            ),
            "surveyanswer",
        )
        world.add(
            side,
            SurveySending.objects.create(
                household=household,
                grid=grid,
                period_kind="month",
                period_start=RATING_MONTH,
                masked_to="135****0000",
                sent_at=now,
            ),
        )
        worker = world.of(side, GridWorker)[0]
        world.add(
            side,
            appraisal_input_record(
                actor=world.actors[side]["staff"],
                worker_id=worker.pk,
                month=RATING_MONTH,
                score=88,
                reason=marker(side, "appraisalinput"),
            ),
            "appraisalinput",
        )
        world.add(side, WorkerAppraisal.objects.get(worker=worker, month=RATING_MONTH))


def build_world() -> World:
    world = World()
    _build_regions(world)
    ticket_category = CategoryFactory(name="安全测试类别")
    rule_item = RuleItemFactory(points=10, name="安全测试事项")
    top_staff = _user(
        world,
        "top",
        "streetstaff",
        role=UserRole.STREET_STAFF,
        region=world.regions["top"]["street"],
    )
    far_staff = _user(
        world,
        "far",
        "streetstaff",
        role=UserRole.STREET_STAFF,
        region=world.regions["far"]["street"],
    )
    for side, keeper in (("top", top_staff), ("far", far_staff)):
        # A street's own deadline class (a street keeps them, not a community).
        world.add(
            side,
            catalogue.deadline_class_create(
                actor=keeper,
                code=f"mk-{side}",
                name=marker(side, "deadlineclass"),
                days=5,
                unit=DeadlineUnit.CALENDAR_DAYS,
                region=world.regions[side]["street"],
            ),
            "deadlineclass",
        )
    _build_hotline_platforms(world)
    world.actors = {}
    for side, street_staff in (
        ("in", top_staff),
        ("sib", top_staff),
        ("far", far_staff),
    ):
        world.actors[side] = _build_side(
            world,
            side,
            street_staff=street_staff,
            ticket_category=ticket_category,
            rule_item=rule_item,
        )
        world.actors[side]["street_staff"] = street_staff
    _build_ratings(world, top_staff=top_staff, far_staff=far_staff)
    # The audit entries the services wrote belong to the side of their record.
    for side in SIDES:
        for model, objs in list(world.objects[side].items()):
            for obj in objs:
                for entry in AuditEntry.objects.filter(
                    content_type=ContentType.objects.get_for_model(model),
                    object_id=str(obj.pk),
                ):
                    world.add(side, entry)
    # The users the walks log in as (no marker: they are the observers).
    regions = world.regions
    world.users = {
        "anonymous": None,
        "grid_worker": UserFactory(
            username="walk-grid-worker",
            role=UserRole.GRID_WORKER,
            region=regions["in"]["grid"],
            is_staff=False,
        ),
        "community_staff": UserFactory(
            username="walk-community-staff",
            role=UserRole.COMMUNITY_STAFF,
            region=regions["in"]["community"],
        ),
        "street_staff": UserFactory(
            username="walk-street-staff",
            role=UserRole.STREET_STAFF,
            region=regions["in"]["street"],
        ),
        "supervisor_other_district": UserFactory(
            username="walk-supervisor",
            role=UserRole.SUPERVISOR,
            region=regions["far"]["district"],
        ),
        "superuser": UserFactory(
            username="walk-root", role="", region=None, is_superuser=True
        ),
    }
    return world


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture(scope="module")
def shared_world(django_db_setup, django_db_blocker):
    """One world per test module (and xdist worker), built inside a transaction
    that is rolled back at the end; each test runs in a savepoint inside it."""
    from django.db import transaction

    from tickets.services.catalogue import deadline_classes_ensure_standard

    with django_db_blocker.unblock(), transaction.atomic():
        deadline_classes_ensure_standard()
        world = build_world()
        yield world
        transaction.set_rollback(True)


# The tickets fixtures (a department, a category, a handler, ``lifecycle``) for
# the form fuzz.
from tests.tickets.conftest import (  # noqa: E402, F401
    category,
    department,
    handler,
    lifecycle,
    other_community_staff,
)

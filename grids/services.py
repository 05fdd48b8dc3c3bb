"""Writes of the grids app: one function per use case.

Every change to the Region tree, the roster, households, residents and patrols
goes through here, whether it comes from the admin, an import, the API or
``seed_demo``. Each function checks the actor's role and scope after taking its
locks, validates, and saves in one transaction.
"""

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Concat, Length, Substr
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import permissions
from .choices import ALLOWED_CHILD_LEVELS, GRID_LEVELS, RegionLevel, UserRole
from .cleaning import full_clean
from .errors import Conflict, DomainError, NotAllowed
from .models import (
    GridAssignment,
    GridWorker,
    Household,
    Patrol,
    Region,
    Resident,
)
from .selectors import worker_serves_in_scope
from .uploads import validate_image_upload
from .validators import (
    birth_date_from_id,
    gender_from_id,
    normalize_id_number,
    normalize_phone,
)


def _lock_trees(*tree_ids) -> None:
    """Serialise writes to one MPTT tree by locking its root rows (sorted: no deadlock)."""
    ids = sorted({t for t in tree_ids if t is not None})
    if ids:
        list(
            Region.objects.select_for_update()
            .filter(tree_id__in=ids, parent__isnull=True)
            .order_by("tree_id")
            .values_list("pk", flat=True)
        )


# --- Regions -----------------------------------------------------------------


def region_create(
    *,
    actor,
    name: str,
    level: str,
    parent: Region | None = None,
    code: str | None = None,
    households_count: int | None = None,
    population_count: int | None = None,
    latitude=None,
    longitude=None,
    boundary=None,
    is_active: bool = True,
) -> Region:
    permissions.require(permissions.can_manage_hierarchy(actor))
    if level not in RegionLevel.values:
        raise DomainError(
            _("Unknown level “%(level)s”.") % {"level": level}, code="invalid"
        )
    with transaction.atomic():
        if parent is not None:
            parent = Region.objects.select_for_update().get(pk=parent.pk)
            permissions.require_in_scope(actor, parent)
            _lock_trees(parent.tree_id)
        elif not actor.is_superuser:
            permissions.require(
                False, _("Only an administrator may create a new root.")
            )
        region = Region(
            parent=parent,
            name=(name or "").strip(),
            level=level,
            code=(code or "").strip() or None,
            households_count=households_count,
            population_count=population_count,
            latitude=latitude,
            longitude=longitude,
            boundary=boundary,
            is_active=is_active,
        )
        full_clean(
            region,
            exclude=["lft", "rght", "tree_id", "depth"],
            conflict_message=_("Another region already has the code %(code)s.")
            % {"code": code},
        )
        try:
            with transaction.atomic():
                region.save()
        except IntegrityError:
            raise Conflict(
                _("Another region already has the code %(code)s.") % {"code": code}
            ) from None
    return region


REGION_EDITABLE_FIELDS = (
    "name",
    "code",
    "households_count",
    "population_count",
    "latitude",
    "longitude",
    "boundary",
    "is_active",
)


def region_update(*, actor, region_id: int, **changes) -> Region:
    """Change a node's own fields. Its place in the tree changes by ``region_move``."""
    unknown = set(changes) - set(REGION_EDITABLE_FIELDS)
    if unknown:
        raise DomainError(
            _("These fields cannot be changed here: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))}
        )
    permissions.require(permissions.can_manage_hierarchy(actor))
    with transaction.atomic():
        region = Region.objects.select_for_update().filter(pk=region_id).first()
        permissions.require_in_scope(actor, region)
        old_code = region.code
        for field, value in changes.items():
            if field == "code":
                value = (value or "").strip() or None
            setattr(region, field, value)
        full_clean(
            region,
            exclude=["lft", "rght", "tree_id", "depth", "parent"],
            conflict_message=_("Another region already has that code."),
        )
        if region.level != RegionLevel.AREA:
            # The parent's rules still hold: re-check against the parent.
            error = Region.code_error(region.code, region.level, region.parent)
            if error:
                raise DomainError(error, code="invalid")
        try:
            with transaction.atomic():
                region.save(update_fields=list(changes))
                if (
                    "code" in changes
                    and old_code
                    and region.code
                    and old_code != region.code
                ):
                    _recode_descendants(region, old_code, region.code)
        except IntegrityError:
            raise Conflict(_("Another region already has that code.")) from None
    return region


def _recode_descendants(region: Region, old_prefix: str, new_prefix: str) -> None:
    """Swap the code prefix of every descendant in one UPDATE."""
    Region.objects.filter(
        tree_id=region.tree_id,
        lft__gt=region.lft,
        rght__lt=region.rght,
        code__startswith=old_prefix,
    ).update(
        code=Concat(Value(new_prefix), Substr(F("code"), Length(Value(old_prefix)) + 1))
    )


def region_move(
    *, actor, region_id: int, new_parent_id: int, new_code: str | None = None
) -> Region:
    """Move a node and its whole subtree under another parent.

    The level rules must hold at the new place. Codes follow the tree: the moved
    node gets ``new_code`` (or keeps its own last segment under the new parent's
    prefix) and every descendant's code prefix is rewritten to match.
    """
    permissions.require(permissions.can_manage_hierarchy(actor))
    with transaction.atomic():
        trees = Region.objects.filter(pk__in=[region_id, new_parent_id]).values_list(
            "tree_id", flat=True
        )
        _lock_trees(*trees)
        region = Region.objects.filter(pk=region_id).first()
        new_parent = Region.objects.filter(pk=new_parent_id).first()
        permissions.require_in_scope(actor, region)
        permissions.require_in_scope(actor, new_parent)
        if region.contains(new_parent):
            raise DomainError(
                _("A region cannot be moved under itself or its own descendants."),
                code="move_into_subtree",
            )
        if region.level not in ALLOWED_CHILD_LEVELS.get(new_parent.level, set()):
            raise DomainError(
                _("A %(level)s cannot be placed under a %(parent)s.")
                % {
                    "level": RegionLevel(region.level).label,
                    "parent": RegionLevel(new_parent.level).label,
                },
                code="illegal_parent",
            )
        old_code = region.code
        code = old_code
        if old_code or new_code:
            prefix = Region.expected_code_prefix(new_parent)
            if new_code:
                code = new_code.strip()
            elif old_code and not old_code.startswith(prefix):
                own_digits = len(old_code) - len(
                    Region.expected_code_prefix(region.parent)
                )
                code = prefix + old_code[-own_digits:] if own_digits > 0 else old_code
            error = Region.code_error(code, region.level, new_parent)
            if error:
                raise DomainError(error, code="invalid")
        try:
            with transaction.atomic():
                region.move_to(new_parent, position="last-child")
                region.refresh_from_db()
                if code != old_code:
                    region.code = code
                    region.save(update_fields=["code"])
                    if old_code:
                        _recode_descendants(region, old_code, code)
        except IntegrityError:
            raise Conflict(
                _(
                    "The moved codes clash with codes under the new parent; give a new code."
                )
            ) from None
    return region


# --- Staff accounts ---------------------------------------------------------------

# The levels an account of each role is scoped to.
ROLE_SCOPE_LEVELS = {
    UserRole.STREET_STAFF: {RegionLevel.DISTRICT, RegionLevel.STREET, RegionLevel.AREA},
    UserRole.COMMUNITY_STAFF: {RegionLevel.COMMUNITY},
    UserRole.GRID_WORKER: {RegionLevel.GRID, RegionLevel.BUILDING},
    UserRole.SUPERVISOR: set(RegionLevel.values),
}


def _check_role_and_scope(actor, role: str, region: Region | None) -> None:
    if role not in permissions.roles_grantable_by(actor):
        raise NotAllowed(_("You may not give an account this role."))
    permissions.require_in_scope(actor, region)
    if region.level not in ROLE_SCOPE_LEVELS[UserRole(role)]:
        raise DomainError(
            _("A %(role)s account cannot be scoped to a %(level)s.")
            % {"role": UserRole(role).label, "level": RegionLevel(region.level).label},
            code="role_level",
        )


def staff_account_create(
    *,
    actor,
    username: str,
    password: str,
    role: str,
    region: Region,
    last_name: str = "",
    first_name: str = "",
    phone: str = "",
):
    """Open an account scoped to ``region``. Grid workers get no admin access
    (they use the phone pages); the password must pass Django's validators."""
    permissions.require(permissions.can_manage_accounts(actor))
    User = get_user_model()
    _check_role_and_scope(actor, role, region)
    user = User(
        username=(username or "").strip(),
        role=role,
        region=region,
        last_name=(last_name or "").strip(),
        first_name=(first_name or "").strip(),
        phone=normalize_phone(phone),
        is_staff=role != UserRole.GRID_WORKER,
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), code="weak_password") from None
    user.set_password(password)
    full_clean(
        user, exclude=["password"], conflict_message=_("This username is taken.")
    )
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise Conflict(_("This username is taken.")) from None
    return user


def staff_account_update(
    *,
    actor,
    user_id: int,
    role: str,
    region: Region,
    is_active: bool,
    last_name: str = "",
    first_name: str = "",
    phone: str = "",
):
    """Change an account in the actor's area: role, scope, name, phone, or close
    it (``is_active=False``). Administrators' accounts are out of reach."""
    permissions.require(permissions.can_manage_accounts(actor))
    User = get_user_model()
    with transaction.atomic():
        user = (
            User.objects.select_for_update(of=("self",))
            .select_related("region")
            .filter(pk=user_id, is_superuser=False)
            .first()
        )
        if user is None or not actor.can_see_region(user.region):
            permissions.require_in_scope(actor, None)
        if user.pk == actor.pk and (role != user.role or region != user.region):
            raise NotAllowed(_("You cannot change your own role or scope."))
        if user.role not in permissions.roles_grantable_by(actor):
            raise NotAllowed(_("You may not change an account with this role."))
        _check_role_and_scope(actor, role, region)
        user.role, user.region, user.is_active = role, region, is_active
        user.last_name = (last_name or "").strip()
        user.first_name = (first_name or "").strip()
        user.phone = normalize_phone(phone)
        user.is_staff = role != UserRole.GRID_WORKER
        full_clean(user, exclude=["password"])
        user.save(
            update_fields=[
                "role",
                "region",
                "is_active",
                "last_name",
                "first_name",
                "phone",
                "is_staff",
            ]
        )
    return user


# --- Roster ------------------------------------------------------------------

STINT_EXISTS = gettext_lazy("This worker already serves this grid in this role.")


def grid_worker_upsert(
    *,
    actor,
    name: str,
    phone: str,
    is_party_member: bool | None = None,
    user=None,
) -> GridWorker:
    """The roster person with this phone, created or updated (phones are unique).

    An existing person is changed only by someone whose scope holds one of their
    stints, or who may see every grid; ``is_party_member=None`` keeps the flag.
    """
    permissions.require(permissions.can_manage_roster(actor))
    phone = normalize_phone(phone)
    with transaction.atomic():
        worker = GridWorker.objects.select_for_update().filter(phone=phone).first()
        if worker is None:
            worker = GridWorker(phone=phone, is_party_member=bool(is_party_member))
        elif not actor.is_superuser and not worker_serves_in_scope(
            actor=actor, worker=worker
        ):
            raise Conflict(
                _(
                    "This phone number belongs to a grid worker outside your area; "
                    "ask their street or community to change them."
                ),
                code="worker_elsewhere",
            )
        worker.name = (name or "").strip()
        if is_party_member is not None:
            worker.is_party_member = is_party_member
        if user is not None:
            if not actor.is_superuser and not actor.can_see_region(user.region):
                permissions.require_in_scope(actor, None)
            worker.user = user
        full_clean(
            worker,
            exclude=["phone"] if worker.pk else None,
            conflict_message=_("Another grid worker has this phone number."),
        )
        worker.save()
    return worker


def grid_worker_update(
    *,
    actor,
    worker_id: int,
    name: str,
    phone: str,
    is_party_member: bool,
    user=None,
) -> GridWorker:
    """Change a roster person (name, phone, party flag; the login link only by an
    administrator). Their stints must lie in the actor's scope, or they have none."""
    permissions.require(permissions.can_manage_roster(actor))
    with transaction.atomic():
        worker = GridWorker.objects.select_for_update().filter(pk=worker_id).first()
        if worker is None or (
            not actor.is_superuser
            and GridAssignment.objects.filter(worker=worker).exists()
            and not worker_serves_in_scope(actor=actor, worker=worker)
        ):
            permissions.require_in_scope(actor, None)
        worker.name = (name or "").strip()
        worker.phone = normalize_phone(phone)
        worker.is_party_member = is_party_member
        if actor.is_superuser:
            worker.user = user
        full_clean(
            worker, conflict_message=_("Another grid worker has this phone number.")
        )
        try:
            with transaction.atomic():
                worker.save()
        except IntegrityError:
            raise Conflict(_("Another grid worker has this phone number.")) from None
    return worker


def assignment_start(
    *,
    actor,
    worker: GridWorker,
    grid: Region,
    role: str,
    started_on: dt.date | None = None,
) -> GridAssignment:
    permissions.require(permissions.can_manage_roster(actor))
    permissions.require_in_scope(actor, grid)
    started_on = started_on or timezone.localdate()
    with transaction.atomic():
        GridWorker.objects.select_for_update().filter(pk=worker.pk).first()
        if GridAssignment.objects.filter(
            worker=worker, grid=grid, role=role, ended_on__isnull=True
        ).exists():
            raise Conflict(STINT_EXISTS)
        assignment = GridAssignment(
            worker=worker, grid=grid, role=role, started_on=started_on
        )
        full_clean(assignment)
        try:
            with transaction.atomic():
                assignment.save()
        except IntegrityError:
            raise Conflict(STINT_EXISTS) from None
    return assignment


def assignment_end(
    *, actor, assignment_id: int, ended_on: dt.date | None = None
) -> GridAssignment:
    """End a stint; the row stays, so the roster keeps its history."""
    permissions.require(permissions.can_manage_roster(actor))
    ended_on = ended_on or timezone.localdate()
    with transaction.atomic():
        assignment = (
            GridAssignment.objects.select_for_update()
            .select_related("grid")
            .filter(pk=assignment_id)
            .first()
        )
        permissions.require_in_scope(actor, assignment.grid if assignment else None)
        if assignment.ended_on is not None:
            raise Conflict(_("This stint has already ended."))
        if ended_on < assignment.started_on:
            raise DomainError(_("A stint cannot end before it starts."))
        assignment.ended_on = ended_on
        assignment.save(update_fields=["ended_on"])
    return assignment


# --- Households and residents ----------------------------------------------------

HOUSEHOLD_EXISTS = gettext_lazy(
    "A household at this address already exists in this grid."
)
RESIDENT_EXISTS = gettext_lazy(
    "A resident with this ID-card number is already registered."
)


def household_create(
    *, actor, region: Region, address: str, household_number: str = "", notes: str = ""
) -> Household:
    permissions.require(permissions.can_manage_households(actor))
    permissions.require_in_scope(actor, region)
    household = Household(
        region=region,
        address=(address or "").strip(),
        household_number=(household_number or "").strip(),
        notes=notes or "",
    )
    full_clean(household, conflict_message=HOUSEHOLD_EXISTS)
    try:
        with transaction.atomic():
            household.save()
    except IntegrityError:
        raise Conflict(
            _("A household at this address already exists in this grid.")
        ) from None
    return household


def household_update(*, actor, household_id: int, **changes) -> Household:
    allowed = {"region", "address", "household_number", "notes"}
    if set(changes) - allowed:
        raise DomainError(_("These fields cannot be changed here."))
    permissions.require(permissions.can_manage_households(actor))
    with transaction.atomic():
        household = (
            Household.objects.select_for_update()
            .select_related("region")
            .filter(pk=household_id)
            .first()
        )
        permissions.require_in_scope(actor, household.region if household else None)
        if "region" in changes:
            permissions.require_in_scope(actor, changes["region"])
        for field, value in changes.items():
            setattr(household, field, value)
        full_clean(household, conflict_message=HOUSEHOLD_EXISTS)
        try:
            with transaction.atomic():
                household.save()
        except IntegrityError:
            raise Conflict(
                _("A household at this address already exists in this grid.")
            ) from None
    return household


def resident_create(
    *,
    actor,
    household: Household,
    name: str,
    id_number: str,
    phone: str = "",
    relationship: str = "head",
    residence_type: str = "registered",
    tags=(),
) -> Resident:
    permissions.require(permissions.can_manage_households(actor))
    permissions.require_in_scope(actor, household.region)
    resident = Resident(household=household)
    return _resident_save(
        resident,
        actor=actor,
        name=name,
        id_number=id_number,
        phone=phone,
        relationship=relationship,
        residence_type=residence_type,
        tags=tags,
    )


def resident_update(*, actor, resident_id: int, **changes) -> Resident:
    allowed = {
        "name",
        "id_number",
        "phone",
        "relationship",
        "residence_type",
        "tags",
        "is_active",
        "household",
    }
    if set(changes) - allowed:
        raise DomainError(_("These fields cannot be changed here."))
    permissions.require(permissions.can_manage_households(actor))
    with transaction.atomic():
        resident = (
            Resident.objects.select_for_update()
            .select_related("household__region")
            .filter(pk=resident_id)
            .first()
        )
        permissions.require_in_scope(
            actor, resident.household.region if resident else None
        )
        if "household" in changes:
            permissions.require_in_scope(actor, changes["household"].region)
        tags = changes.pop("tags", None)
        for field in (
            "name",
            "id_number",
            "phone",
            "relationship",
            "residence_type",
            "is_active",
            "household",
        ):
            changes.setdefault(field, getattr(resident, field))
        return _resident_save(resident, actor=actor, tags=tags, **changes)


def _resident_save(resident: Resident, *, actor, tags=None, **fields) -> Resident:
    id_number = normalize_id_number(fields.pop("id_number"))
    resident.id_number = id_number
    resident.phone = normalize_phone(fields.pop("phone", "") or "")
    resident.name = (fields.pop("name") or "").strip()
    for field, value in fields.items():
        setattr(resident, field, value)
    if len(id_number) == 18:
        try:
            resident.birth_date = birth_date_from_id(id_number)
            resident.gender = gender_from_id(id_number)
        except ValueError:
            pass  # full_clean reports the bad number with its reason
    with transaction.atomic():
        full_clean(resident, conflict_message=RESIDENT_EXISTS)
        try:
            with transaction.atomic():
                resident.save()
        except IntegrityError:
            raise Conflict(RESIDENT_EXISTS) from None
        if tags is not None:
            visible = [t for t in tags if t.is_visible_to(actor)]
            hidden_kept = (
                [t for t in resident.tags.all() if not t.is_visible_to(actor)]
                if resident.pk
                else []
            )
            resident.tags.set(visible + hidden_kept)
    return resident


# --- Patrols -------------------------------------------------------------------


def patrol_record(
    *,
    actor,
    region: Region,
    kind: str,
    notes: str,
    occurred_at: dt.datetime | None = None,
    household: Household | None = None,
    photo=None,
) -> Patrol:
    """A grid worker records a patrol, a household visit or a diary entry."""
    permissions.require(permissions.can_record_patrol(actor))
    permissions.require_in_scope(actor, region)
    if region.level not in GRID_LEVELS:
        raise DomainError(
            _("Patrols are recorded on a grid or a building."), code="not_a_grid"
        )
    if (
        household is not None
        and not region.contains(household.region)
        and not household.region.contains(region)
    ):
        raise DomainError(
            _("The household is not in this grid."), code="household_elsewhere"
        )
    occurred_at = occurred_at or timezone.now()
    if occurred_at > timezone.now() + dt.timedelta(minutes=5):
        raise DomainError(
            _("A patrol cannot be recorded in the future."), code="future"
        )
    if photo:
        validate_image_upload(photo)
    patrol = Patrol(
        worker=actor,
        region=region,
        kind=kind,
        occurred_at=occurred_at,
        household=household,
        notes=(notes or "").strip(),
        photo=photo or "",
    )
    full_clean(patrol)
    patrol.save()
    return patrol


# --- Figures -------------------------------------------------------------------


def region_counts_refresh() -> int:
    """Recount households and residents of every Region from the household file.

    Set-based and bottom-up: one UPDATE gives every node its own rows' counts,
    then one UPDATE per tree depth (deepest first) adds the children's totals, so
    each node ends with its whole subtree. The number of statements depends on
    the depth of the tree (six levels at most), never on the number of rows.
    Idempotent. Returns the number of regions.
    """
    own_households = (
        Household.objects.filter(region=OuterRef("pk"))
        .order_by()
        .values("region")
        .annotate(n=Count("pk"))
        .values("n")
    )
    own_residents = (
        Resident.objects.filter(is_active=True, household__region=OuterRef("pk"))
        .order_by()
        .values("household__region")
        .annotate(n=Count("pk"))
        .values("n")
    )

    def children_sum(field):
        return Coalesce(
            Subquery(
                Region.objects.filter(parent=OuterRef("pk"))
                .order_by()
                .values("parent")
                .annotate(total=Sum(field))
                .values("total")
            ),
            0,
        )

    with transaction.atomic():
        updated = Region.objects.update(
            households_count=Coalesce(Subquery(own_households), 0),
            population_count=Coalesce(Subquery(own_residents), 0),
        )
        deepest = Region.objects.aggregate(deepest=Max("depth"))["deepest"] or 0
        for depth in range(deepest - 1, -1, -1):
            Region.objects.filter(depth=depth).update(
                households_count=F("households_count")
                + children_sum("households_count"),
                population_count=F("population_count")
                + children_sum("population_count"),
            )
    return updated

"""Staff accounts: opened, changed and closed by street staff within their street."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .. import permissions
from ..choices import RegionLevel, UserRole
from ..cleaning import validated_save
from ..errors import DomainError, NotAllowed
from ..history import records_actor
from ..models import Region
from ..validators import normalize_phone

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


@records_actor
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
    return validated_save(
        user, exclude=["password"], conflict_message=_("This username is taken.")
    )


@records_actor
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
        validated_save(
            user,
            exclude=["password"],
            update_fields=[
                "role",
                "region",
                "is_active",
                "last_name",
                "first_name",
                "phone",
                "is_staff",
            ],
        )
    return user


def staff_account_unlock(*, actor, user_id: int) -> int:
    """Lift the login lock (django-axes: too many failed passwords) of an account
    in the actor's area, from every address; returns how many locks were lifted.
    Administrators unlock any account, also in the admin's 访问尝试 list."""
    from axes.utils import reset

    permissions.require(permissions.can_manage_accounts(actor))
    User = get_user_model()
    user = User.objects.select_related("region").filter(pk=user_id).first()
    in_reach = user is not None and (
        actor.is_superuser
        or (
            not user.is_superuser
            and user.region is not None
            and actor.can_see_region(user.region)
        )
    )
    if not in_reach:
        permissions.require_in_scope(actor, None)
    return reset(username=user.get_username())

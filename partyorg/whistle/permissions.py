"""Who may do what with whistles (吹哨报到), in one place. Scope is checked by
the services after their reads (``grids.permissions.require_in_scope``)."""

from grids.permissions import WRITE_ROLES, has_role


def can_blow_whistle(user) -> bool:
    """网格吹哨: grid workers, community staff and street staff of the area."""
    return has_role(user, WRITE_ROLES)


def may_record_arrival(user, call) -> bool:
    """报到: the grid worker or staff on site records who arrived; an account
    linked to the summoned party member may check itself in."""
    if has_role(user, WRITE_ROLES):
        return True
    member = getattr(user, "party_member", None) if user.is_authenticated else None
    return member is not None and call.member_id == member.pk

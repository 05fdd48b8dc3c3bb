"""Writes of the partyorg app: one function per use case, ``<entity>_<action>``.

Admin pages, views, the demo seed and tasks all call these; nothing else writes
a party organisation, a member, a registration, a service record or a wish.
"""

from .members import (
    MEMBER_EDITABLE_FIELDS,
    party_member_create,
    party_member_update,
    registration_create,
    registration_end,
    service_record_log,
)
from .orgs import ORG_EDITABLE_FIELDS, party_org_create, party_org_update
from .wishes import (
    member_may_claim,
    wish_cancel,
    wish_claim,
    wish_confirm,
    wish_fulfil,
    wish_post,
    wish_reject,
    wish_release,
    wish_withdraw,
    wishes_notify_stale,
)

__all__ = [
    "MEMBER_EDITABLE_FIELDS",
    "ORG_EDITABLE_FIELDS",
    "member_may_claim",
    "party_member_create",
    "party_member_update",
    "party_org_create",
    "party_org_update",
    "registration_create",
    "registration_end",
    "service_record_log",
    "wish_cancel",
    "wish_claim",
    "wish_confirm",
    "wish_fulfil",
    "wish_post",
    "wish_reject",
    "wish_release",
    "wish_withdraw",
    "wishes_notify_stale",
]

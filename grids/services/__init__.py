"""Writes of the grids app: one function per use case, by family.

Every change to the Region tree, the staff accounts, the roster, households,
residents, special-group tags and patrols goes through here, whether it comes
from the admin, an import, the API or ``seed_demo``. Each function checks the
actor's role and scope after taking its locks, validates, and saves in one
transaction. ``from grids import services; services.region_create(...)`` and
``from grids.services import region_create`` both work.
"""

from ._common import lock_in_scope
from .accounts import (
    ROLE_SCOPE_LEVELS,
    staff_account_create,
    staff_account_unlock,
    staff_account_update,
)
from .api_tokens import (
    TokenRefused,
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
)
from .datajobs import (
    data_job_export_submit,
    data_job_file,
    data_job_import_submit,
    data_job_run,
    data_jobs_cleanup,
    data_jobs_requeue,
)
from .households import (
    HOUSEHOLD_EDITABLE_FIELDS,
    HOUSEHOLD_EXISTS,
    RESIDENT_EDITABLE_FIELDS,
    RESIDENT_EXISTS,
    HouseholdRow,
    household_create,
    household_resident_counts_refresh,
    household_update,
    households_import,
    resident_create,
    resident_update,
)
from .patrols import patrol_record
from .personal_data import (
    REVEALABLE_FIELDS,
    export_needs_reason,
    personal_data_export,
    personal_data_reveal,
)
from .photos import photos_reencode_legacy
from .regions import (
    REGION_EDITABLE_FIELDS,
    region_counts_refresh,
    region_create,
    region_move,
    region_update,
)
from .residents import ResidentRow, residents_import
from .roster import (
    STINT_EXISTS,
    RosterRow,
    assignment_end,
    assignment_start,
    grid_worker_phone_problem,
    grid_worker_update,
    grid_worker_upsert,
    roster_import,
)
from .tags import (
    TAG_CODE_TAKEN,
    resident_tag_create,
    resident_tag_deactivate,
    resident_tag_update,
)

__all__ = [
    "HOUSEHOLD_EDITABLE_FIELDS",
    "HOUSEHOLD_EXISTS",
    "REGION_EDITABLE_FIELDS",
    "RESIDENT_EDITABLE_FIELDS",
    "RESIDENT_EXISTS",
    "REVEALABLE_FIELDS",
    "ROLE_SCOPE_LEVELS",
    "STINT_EXISTS",
    "TAG_CODE_TAKEN",
    "HouseholdRow",
    "ResidentRow",
    "RosterRow",
    "TokenRefused",
    "api_token_authenticate",
    "api_token_create",
    "api_token_revoke",
    "assignment_end",
    "assignment_start",
    "data_job_export_submit",
    "data_job_file",
    "data_job_import_submit",
    "data_job_run",
    "data_jobs_cleanup",
    "data_jobs_requeue",
    "export_needs_reason",
    "grid_worker_phone_problem",
    "grid_worker_update",
    "grid_worker_upsert",
    "household_create",
    "household_resident_counts_refresh",
    "household_update",
    "households_import",
    "lock_in_scope",
    "patrol_record",
    "personal_data_export",
    "personal_data_reveal",
    "photos_reencode_legacy",
    "region_counts_refresh",
    "region_create",
    "region_move",
    "region_update",
    "resident_create",
    "resident_tag_create",
    "resident_tag_deactivate",
    "resident_tag_update",
    "resident_update",
    "residents_import",
    "roster_import",
    "staff_account_create",
    "staff_account_unlock",
    "staff_account_update",
]

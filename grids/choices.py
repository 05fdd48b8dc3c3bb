"""Choices of the grids app: region levels, roles, residence types."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RegionLevel(models.TextChoices):
    # 区/县: the district or county, the root of a deployment.
    DISTRICT = "district", _("District / county")
    # 街道/镇: the street office or town government.
    STREET = "street", _("Street / town")
    # 片区: optional middle level between street and community (seed 001).
    AREA = "area", _("Area")
    # 社区/村: the community or village.
    COMMUNITY = "community", _("Community / village")
    # 网格: ~300 households / ~1000 people, one full-time worker.
    GRID = "grid", _("Grid")
    # 微网格/楼栋: a building or micro-grid inside a grid.
    BUILDING = "building", _("Micro-grid / building")


# Which level may hang under which; None is the root. Depth is never hard-coded:
# the rules below are the whole of it.
ALLOWED_CHILD_LEVELS = {
    None: {RegionLevel.DISTRICT, RegionLevel.STREET},
    RegionLevel.DISTRICT: {RegionLevel.STREET},
    RegionLevel.STREET: {RegionLevel.AREA, RegionLevel.COMMUNITY},
    RegionLevel.AREA: {RegionLevel.COMMUNITY},
    RegionLevel.COMMUNITY: {RegionLevel.GRID},
    RegionLevel.GRID: {RegionLevel.BUILDING},
    RegionLevel.BUILDING: set(),
}

# Digits each level adds to the code: 6-digit administrative division, then
# 3 street + 3 community + 3 grid (+ 3 building). An area adds none: its
# communities extend the street's code.
CODE_SEGMENT_DIGITS = {
    RegionLevel.DISTRICT: 6,
    RegionLevel.STREET: 3,
    RegionLevel.AREA: 0,
    RegionLevel.COMMUNITY: 3,
    RegionLevel.GRID: 3,
    RegionLevel.BUILDING: 3,
}

# Levels a grid worker serves and households live in.
GRID_LEVELS = (RegionLevel.GRID, RegionLevel.BUILDING)


class UserRole(models.TextChoices):
    # 街道/镇工作人员: keeps the hierarchy, triages and dispatches, approves.
    STREET_STAFF = "street_staff", _("Street staff")
    # 社区工作人员: accepts tickets, keeps households, approves points.
    COMMUNITY_STAFF = "community_staff", _("Community staff")
    # 网格员: patrols, visits, handles tickets on a phone.
    GRID_WORKER = "grid_worker", _("Grid worker")
    # 领导/综治中心: reads dashboards, changes nothing.
    SUPERVISOR = "supervisor", _("Supervisor (read-only)")


class WorkerRole(models.TextChoices):
    FULL_TIME = "full_time", _("Full-time grid worker")  # 专职网格员
    PART_TIME = "part_time", _("Part-time grid worker")  # 兼职网格员
    MICRO = "micro", _("Micro-grid worker")  # 微网格员, often a volunteer
    HEAD = "head", _("Grid head")  # 网格长


class ResidenceType(models.TextChoices):
    REGISTERED = "registered", _("Registered (hukou)")  # 户籍人口
    RESIDENT = "resident", _("Permanent resident")  # 常住人口
    FLOATING = "floating", _("Floating population")  # 流动人口


class Relationship(models.TextChoices):
    HEAD = "head", _("Head of household")  # 户主
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    GRANDCHILD = "grandchild", _("Grandchild")
    SIBLING = "sibling", _("Sibling")
    OTHER = "other", _("Other")


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class PatrolKind(models.TextChoices):
    PATROL = "patrol", _("Daily patrol")  # 日巡查
    VISIT = "visit", _("Household visit")  # 入户走访 / 敲门
    DIARY = "diary", _("Public-opinion diary")  # 民情日记


class NotificationChannel(models.TextChoices):
    IN_APP = "in_app", _("In-app inbox")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")


class PersonalDataAccessKind(models.TextChoices):
    # 查看: a staff member showed a resident's whole ID number or phone.
    REVEAL = "reveal", pgettext_lazy("personal data", "Shown")
    # 导出: a spreadsheet of personal data (unmasked, or large) was exported.
    EXPORT = "export", pgettext_lazy("personal data", "Exported")


class AuditAction(models.TextChoices):
    CREATE = "create", pgettext_lazy("audit", "Created")  # 新增
    UPDATE = "update", pgettext_lazy("audit", "Changed")  # 修改
    DEACTIVATE = "deactivate", pgettext_lazy("audit", "Deactivated")  # 停用


class DataJobKind(models.TextChoices):
    """What a background data job does (后台导入导出)."""

    IMPORT = "import", pgettext_lazy("data job", "Import")  # 导入
    EXPORT = "export", pgettext_lazy("data job", "Export")  # 导出


class DataJobState(models.TextChoices):
    QUEUED = "queued", _("Queued")  # 排队中: stored, waiting for a worker
    RUNNING = "running", _("Running")  # 进行中: a worker is checking or writing
    SUCCEEDED = "succeeded", _("Succeeded")  # 已完成: every row written / file ready
    FAILED = "failed", _("Failed")  # 未通过: refused rows or an error; nothing written


# A job in one of these states is finished: it never changes state again.
DATA_JOB_FINISHED = frozenset({DataJobState.SUCCEEDED, DataJobState.FAILED})


class DataJobFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (xlsx)"

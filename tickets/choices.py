"""Choices of the tickets app: sources, stages, actions and the transitions between
stages as data (seed 004, 高沙窝镇 "六单": 制单/派单/接单/做单/评单/考单)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    HOTLINE = "hotline", _("12345 hotline")  # 12345 热线
    PATROL = "patrol", _("Grid patrol")  # 网格巡查
    LETTER_VISIT = "letter_visit", _("Letters and visits")  # 来信来访
    PETITION = "petition", _("Petition office")  # 信访
    DEPARTMENT = "department", _("Another department")  # 其他部门转办
    SELF_REPORT = "self_report", _("Resident self-report")  # 群众自报


class DeadlineClass(models.TextChoices):
    """The codes of the three standard deadline classes (seed 004); the classes
    themselves, with their days and unit, are rows of ``HandlingLimit``."""

    EASY = "easy", _("Easy disputes (5 days)")  # 简易纠纷: 5日
    GENERAL = "general", _("General and 12345 (7 days)")  # 一般纠纷、12345: 7日
    HARD = "hard", _("Hard cases (30 working days)")  # 疑难复杂: 30个工作日


class DeadlineUnit(models.TextChoices):
    """How a limit counts, as the seed writes it (日 or 工作日)."""

    # 日: calendar days; a last day that is a holiday or rest day moves to the
    # next working day (the rule for statutory periods).
    CALENDAR_DAYS = "calendar_days", _("days (calendar)")
    # 工作日: working days of the calendar, with 调休.
    WORKING_DAYS = "working_days", _("working days")


# The standard classes the migration creates: code → (days, unit). Every 12345
# ticket is handled within the general class's limit whatever its category says.
STANDARD_DEADLINE_CLASSES = {
    DeadlineClass.EASY: (5, DeadlineUnit.CALENDAR_DAYS),
    DeadlineClass.GENERAL: (7, DeadlineUnit.CALENDAR_DAYS),
    DeadlineClass.HARD: (30, DeadlineUnit.WORKING_DAYS),
}
HOTLINE_DEADLINE_CLASS = DeadlineClass.GENERAL
# Kept for callers that read the plain numbers (bench); the days live in the table.
HANDLING_WORKING_DAYS = {
    code: days for code, (days, _u) in STANDARD_DEADLINE_CLASSES.items()
}
HOTLINE_HANDLING_WORKING_DAYS = STANDARD_DEADLINE_CLASSES[HOTLINE_DEADLINE_CLASS][0]
# 制单+派单 within 1 working day of receipt; 接单 within 1 of dispatch.
TRIAGE_WORKING_DAYS = 1
ACCEPT_WORKING_DAYS = 1


class Stage(models.TextChoices):
    # 待制单: received from a channel, waiting for the centre to triage it.
    RECEIVED = "received", _("Received (to triage)")
    # 已制单·待派单: category, place and responsible leader set; not yet sent out.
    # A ticket the unit returned (退单) comes back here.
    TRIAGED = "triaged", _("Triaged (to dispatch)")
    # 已派单·待接单: sent to a community or a department, waiting for it to accept.
    # A ticket reported up (上报) comes back here, at the next level up.
    DISPATCHED = "dispatched", _("Dispatched (to accept)")
    # 已接单·做单中: the unit named a handler who goes on site and handles it.
    ACCEPTED = "accepted", _("Accepted (handling)")
    # 已办结·待评单: handled; waiting for the resident's verdict.
    HANDLED = "handled", _("Handled (to evaluate)")
    # 已评单·待考单: verdict given (or 未评价 after the wait); waiting for assessment.
    EVALUATED = "evaluated", _("Evaluated (to assess)")
    # 已考单·办结: assessed once (一事一考评) and closed.
    CLOSED = "closed", _("Closed")
    # 已合并: a duplicate merged into another ticket; closed with a pointer.
    MERGED = "merged", _("Merged")


class Action(models.TextChoices):
    """What an event in a ticket's log records."""

    CREATE = "create", _("Received")  # 受理
    TRIAGE = "triage", _("Triaged")  # 制单
    DISPATCH = "dispatch", _("Dispatched")  # 派单
    ACCEPT = "accept", _("Accepted")  # 接单
    RETURN = "return", _("Returned")  # 退单
    HANDLE = "handle", _("Handled")  # 做单
    REPORT_UP = "report_up", _("Reported up")  # 上报
    EVALUATE = "evaluate", _("Evaluated")  # 评单
    REWORK = "rework", _("Sent back for rework")  # 返工
    UNEVALUATED = "unevaluated", _("Marked not evaluated")  # 未评价
    ASSESS = "assess", _("Assessed")  # 考单
    MERGE = "merge", _("Merged")  # 合并
    ESCALATE = "escalate", _("Escalated")  # 超期升级
    MESSAGE = "message", _("Message from the reporter")  # 群众留言
    RECALCULATE = "recalculate", _("Deadline recomputed")  # 工作日历确认后重算
    SEND_LINK = "send_link", _("Evaluation link sent")  # 短信发送评价链接


# Each stage-changing action: the stages it starts from and the stage it leads to.
TRANSITIONS = {
    Action.TRIAGE: ({Stage.RECEIVED, Stage.TRIAGED}, Stage.TRIAGED),
    Action.DISPATCH: ({Stage.TRIAGED}, Stage.DISPATCHED),
    Action.ACCEPT: ({Stage.DISPATCHED}, Stage.ACCEPTED),
    Action.RETURN: ({Stage.DISPATCHED}, Stage.TRIAGED),
    Action.HANDLE: ({Stage.ACCEPTED}, Stage.HANDLED),
    Action.REPORT_UP: ({Stage.ACCEPTED}, Stage.DISPATCHED),
    Action.EVALUATE: ({Stage.HANDLED}, Stage.EVALUATED),
    Action.REWORK: ({Stage.HANDLED}, Stage.ACCEPTED),
    Action.UNEVALUATED: ({Stage.HANDLED}, Stage.EVALUATED),
    Action.ASSESS: ({Stage.EVALUATED}, Stage.CLOSED),
    Action.MERGE: ({Stage.RECEIVED, Stage.TRIAGED}, Stage.MERGED),
}

# The allowed stage graph, derived from the actions above.
ALLOWED: dict[str, set[str]] = {stage: set() for stage in Stage}
for _from_stages, _to_stage in TRANSITIONS.values():
    for _stage in _from_stages:
        ALLOWED[_stage].add(_to_stage)

OPEN_STAGES = frozenset(set(Stage) - {Stage.CLOSED, Stage.MERGED})
# Stages whose deadline, once passed, escalates the ticket up the Region tree.
ESCALATING_STAGES = frozenset(
    {Stage.RECEIVED, Stage.TRIAGED, Stage.DISPATCHED, Stage.ACCEPTED}
)


class Verdict(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")  # 满意
    ORDINARY = "ordinary", _("Fair")  # 一般
    DISSATISFIED = "dissatisfied", _("Dissatisfied")  # 不满意
    # 未评价: no verdict in the wait; counted apart, never as satisfied.
    UNEVALUATED = "unevaluated", _("Not evaluated")


RESIDENT_VERDICTS = (Verdict.SATISFIED, Verdict.ORDINARY, Verdict.DISSATISFIED)
# 不满意 sends a ticket back once (返工); the verdict of this round stands.
LAST_EVALUATION_ROUND = 2


class ClosingLevel(models.TextChoices):
    """Where a closed ticket was solved: "小事不出网格、大事不出社区" (seed 002)."""

    # 网格: handled by a grid worker of the community it was dispatched to.
    GRID = "grid", _("Within the grid")
    # 社区: handled by the community's own staff.
    COMMUNITY = "community", _("Within the community")
    # 街道: reported up to the street, or handled by a street's department.
    STREET = "street", _("At the street")
    # 街道以上: reported up above the street, or a district's department.
    ABOVE = "above", _("Above the street")


class EvaluationChannel(models.TextChoices):
    PHONE = "phone", _("Phone call (recorded by staff)")  # 电话回访
    LINK = "link", _("Signed link")  # 短信链接


class CalendarSource(models.TextChoices):
    # 国务院办公厅放假安排, as the chinese-calendar package carries it.
    CHINESE_CALENDAR = "chinese_calendar", _("State Council holiday schedule")
    # The statutory holidays only, from the holidays package: no 调休.
    HOLIDAYS = "holidays", _("Statutory holidays only (no make-up workdays)")
    STAFF = "staff", _("Entered by staff")

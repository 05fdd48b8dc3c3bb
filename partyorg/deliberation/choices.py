"""Choices of community deliberation (议事协商, seed 003), and the rules that go
with them as data: the screening kinds of 五议五不议, the three paths (六步议事,
四+五, 一报四议两公开) with their steps in order, the path each kind of community
follows, the councils and the seven meeting rules (协商七条).

The services, the pages, the demo and the tests all read these tables; nothing
else states which step follows which.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CommunityKind(models.TextChoices):
    """What kind of place a community is: it chooses the path (seed 003)."""

    # 封闭式社区: an estate with an owners' committee and a property company.
    CLOSED_ESTATE = "closed_estate", _("Closed estate")
    # 开放式社区: an open community of streets and lanes.
    OPEN = "open", _("Open community")
    # 村改居: a village turned into a community.
    VILLAGE_TO_COMMUNITY = "village_to_community", _("Village turned community")
    # 农村: a village.
    VILLAGE = "village", _("Village")


class Path(models.TextChoices):
    # 六步议事: the general method of "how to deliberate".
    SIX_STEPS = "six_steps", _("Six steps of deliberation")
    # 四+五: open communities, four levels interact, five steps of consultation.
    FOUR_PLUS_FIVE = "four_plus_five", _("Four levels plus five steps")
    # 一报四议两公开: villages and village-to-community areas.
    ONE_REPORT = "one_report", _("One report, four deliberations, two publications")


class Step(models.TextChoices):
    # --- 六步议事 -------------------------------------------------------------
    COLLECT = "collect", _("Collect the issue")  # 收集问题
    SET_TOPIC = "set_topic", _("Set the topic")  # 拟定议题
    RESEARCH = "research", _("Research before the meeting")  # 议前调研
    DELIBERATE = "deliberate", _("Multi-party deliberation")  # 多方商议
    PUBLISH = "publish", _("Publish the outcome")  # 公开协商结果
    SUPERVISE = "supervise", _("Supervise execution")  # 监督执行
    # --- 四+五 (五步协商) -------------------------------------------------------
    GATHER_OPINIONS = "gather_opinions", _("Collect opinions")  # 意见征集
    CONSULT = "consult", _("Deliberate")  # 协商议事
    PARTY_REVIEW = "party_review", _("Party committee reviews")  # 党委审核
    IMPLEMENT = "implement", _("Implement and report back")  # 落实反馈
    EVALUATE = "evaluate", _("Evaluate the result")  # 结果评估
    # --- 一报四议两公开 ---------------------------------------------------------
    REPORT = "report", _("Report to the town party committee")  # 向街镇党(工)委报告
    PROPOSE = "propose", _("Party organisation proposes")  # 党组织会议提议
    TWO_COMMITTEES = "two_committees", _("Two committees consult")  # "两委"会议商议
    MEMBERS_REVIEW = "members_review", _("Party members review")  # 党员大会审议
    RESOLVE = "resolve", _("Villagers resolve")  # 村民代表会议或村民大会决议
    PUBLISH_RESOLUTION = "publish_resolution", _("Publish the resolution")  # 决议公开
    PUBLISH_EXECUTION = "publish_execution", _("Publish the execution")  # 实施结果公开


# Each path's steps, in the only order they may be recorded (seed 003).
PATH_STEPS: dict[str, tuple[str, ...]] = {
    Path.SIX_STEPS: (
        Step.COLLECT,
        Step.SET_TOPIC,
        Step.RESEARCH,
        Step.DELIBERATE,
        Step.PUBLISH,
        Step.SUPERVISE,
    ),
    Path.FOUR_PLUS_FIVE: (
        Step.GATHER_OPINIONS,
        Step.CONSULT,
        Step.PARTY_REVIEW,
        Step.IMPLEMENT,
        Step.EVALUATE,
    ),
    Path.ONE_REPORT: (
        Step.REPORT,
        Step.PROPOSE,
        Step.TWO_COMMITTEES,
        Step.MEMBERS_REVIEW,
        Step.RESOLVE,
        Step.PUBLISH_RESOLUTION,
        Step.PUBLISH_EXECUTION,
    ),
}

# The step of each path where the matter is decided by ballot (四步走): it cannot
# be recorded before a vote item of the topic is counted, nor while one is open.
DECISION_STEPS = frozenset({Step.DELIBERATE, Step.CONSULT, Step.RESOLVE})

# Steps whose record is public (公开): the outcome, the resolution, the execution.
PUBLIC_STEPS = frozenset(
    {
        Step.PUBLISH,
        Step.SUPERVISE,
        Step.IMPLEMENT,
        Step.EVALUATE,
        Step.PUBLISH_RESOLUTION,
        Step.PUBLISH_EXECUTION,
    }
)

# The path a community follows by its kind (seed 003: 封闭式社区 五位一体 with the
# six steps; 开放式社区 四+五; 村改居和农村 一报四议两公开).
PATH_FOR_KIND = {
    CommunityKind.CLOSED_ESTATE: Path.SIX_STEPS,
    CommunityKind.OPEN: Path.FOUR_PLUS_FIVE,
    CommunityKind.VILLAGE_TO_COMMUNITY: Path.ONE_REPORT,
    CommunityKind.VILLAGE: Path.ONE_REPORT,
}
# A community nobody has described yet follows the general six steps.
DEFAULT_PATH = Path.SIX_STEPS


class TopicKind(models.TextChoices):
    """五议五不议: what the screener decides a topic is about (seed 003)."""

    # --- 五议 (admissible) ---------------------------------------------------
    # 涉及居民群众切身利益的公共事务、公共设施建设,拆迁改造、环境综合整治
    PUBLIC_AFFAIRS = (
        "public_affairs",
        _("Shared affairs, public facilities, demolition, renovation or environment"),
    )
    # 居民群众反映强烈、迫切要求解决的实际困难问题和矛盾纠纷
    PRESSING_PROBLEM = (
        "pressing_problem",
        _("A pressing problem or dispute residents raise strongly"),
    )
    # 党委政府的方针政策、重点工作部署在社区的落实
    POLICY_LOCALLY = (
        "policy_locally",
        _("Local implementation of party and government policy"),
    )
    # 社区党群专项经费、集体资源资产资金的安排使用
    COMMUNITY_FUNDS = (
        "community_funds",
        _("Use of community funds, collective resources and assets"),
    )
    # 各类协商主体提出协商需求的其他事项
    OTHER_REQUEST = (
        "other_request",
        _("Another matter a deliberating party asks to deliberate"),
    )
    # --- 五不议 (refused) -----------------------------------------------------
    # 党的政策和国家法律法规有明文规定的事项
    FIXED_BY_LAW = "fixed_by_law", _("Fixed by party policy or by law")
    # 上级党委政府有明确要求的事项
    REQUIRED_FROM_ABOVE = (
        "required_from_above",
        _("Clearly required by the party committee or government above"),
    )
    # 常规例行工作已有明确规范的事项
    ROUTINE_WORK = "routine_work", _("Routine work with set rules")
    # 有失公平公正及明显带有歧视性的事项
    UNFAIR = "unfair", _("Unfair or discriminatory")
    # 属于个体矛盾、两方纠纷的事项
    PRIVATE_DISPUTE = "private_dispute", _("An individual or two-party dispute")


ADMISSIBLE_KINDS = frozenset(
    {
        TopicKind.PUBLIC_AFFAIRS,
        TopicKind.PRESSING_PROBLEM,
        TopicKind.POLICY_LOCALLY,
        TopicKind.COMMUNITY_FUNDS,
        TopicKind.OTHER_REQUEST,
    }
)
REFUSED_KINDS = frozenset(set(TopicKind) - ADMISSIBLE_KINDS)
# The refused kind that is not dropped but sent elsewhere: a ticket (12345) or
# mediation (人民调解) handles an individual or two-party dispute.
TICKET_PATH_KINDS = frozenset({TopicKind.PRIVATE_DISPUTE})


class TopicSource(models.TextChoices):
    """Who raised the topic (收集问题)."""

    RESIDENT = "resident", _("A resident")  # through a grid worker or the phone page
    GRID_WORKER = "grid_worker", _("A grid worker")
    PARTY_BRANCH = "party_branch", _("A party branch")
    COUNCIL = "council", _("A council")
    TICKET = "ticket", _("A ticket")  # a recurring or shared problem


class TopicState(models.TextChoices):
    # 待筛选: raised, waiting for 五议五不议.
    RAISED = "raised", _("Waiting for screening")
    # 不议: refused by a rule of 五不议 (the rule is recorded). Final.
    REFUSED = "refused", _("Refused")
    # 议事中: admitted, its path's steps being recorded one by one.
    IN_PROGRESS = "in_progress", _("In deliberation")
    # 已办结: every step of its path is recorded. Final.
    CONCLUDED = "concluded", _("Concluded")


class CouncilKind(models.TextChoices):
    # 居民议事会: the residents' council.
    RESIDENTS = "residents", _("Residents' council")
    # 五位一体联席会议: party organisation, residents' committee, service station,
    # owners' committee and property company (closed estates).
    FIVE_IN_ONE = "five_in_one", _("Five-in-one joint meeting")
    # 共建会: the co-building council of units in the area (四会).
    CO_BUILDING = "co_building", _("Co-building council")
    # 社会组织联合会: the federation of social organisations (四会).
    SOCIAL_ORGS = "social_orgs", _("Federation of social organisations")
    # 联席会议: a joint meeting (四会).
    JOINT = "joint", _("Joint meeting")
    # 网格议事会: the grid's council.
    GRID = "grid", _("Grid council")


class MemberSide(models.TextChoices):
    """Whom a council member speaks for (五位一体 and the others)."""

    PARTY_ORG = "party_org", _("Party organisation")  # 社区党组织
    RESIDENTS_COMMITTEE = "residents_committee", _("Residents' committee")  # 居委会
    SERVICE_STATION = "service_station", _("Service station")  # 社区服务站
    OWNERS_COMMITTEE = "owners_committee", _("Owners' committee")  # 业主委员会
    PROPERTY_COMPANY = "property_company", _("Property company")  # 物业公司
    RESIDENT = "resident", pgettext_lazy("deliberation", "Residents")  # 居民代表
    PARTY_MEMBER = "party_member", _("Party members")  # 党员代表
    GRID_WORKER = "grid_worker", _("Grid workers")  # 网格员
    OTHER = "other", _("Other unit or organisation")  # 共建单位、社会组织


class Vote(models.TextChoices):
    FOR = "for", _("For")  # 同意
    AGAINST = "against", _("Against")  # 不同意
    ABSTAIN = "abstain", _("Abstain")  # 弃权


class VoteState(models.TextChoices):
    # 表决中: ballots issued to every eligible member, being cast.
    OPEN = "open", _("Voting")
    # 已计票: counted against quorum and majority, result published. Final.
    COUNTED = "counted", _("Counted")


class VoteResult(models.TextChoices):
    PASSED = "passed", _("Passed")  # 通过
    REJECTED = "rejected", pgettext_lazy("deliberation", "Rejected")  # 未通过
    TIED = "tied", _("Tied, not passed")  # 票数相等, 未通过
    NO_QUORUM = "no_quorum", _("Quorum not reached")  # 未达法定人数, 无效


# 协商七条 (seed 003): shown on the meeting page and on the printed minutes.
MEETING_RULES = (
    _("One matter per meeting."),  # 一事一议
    _("State your position clearly."),  # 明确立场
    _("Everyone has an equal chance to speak."),  # 机会均等
    _("Do not overrun your time."),  # 不超时
    _("Do not interrupt."),  # 不打断
    _("Do not stray from the topic."),  # 不跑题
    _("Do not attack anyone."),  # 不攻击
)

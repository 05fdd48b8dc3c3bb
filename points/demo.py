"""Demo data of the points app for ``manage.py seed_demo`` (run after the grids
demo): the catalogue of seed 004 (5 categories, 40 service items), a policy and
prizes per community, prizes shared by each street, approved awards booked
through the services, a queue of proposals waiting, and a few redemptions.
Idempotent: if the catalogue exists, nothing is done.
"""

import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import timezone

from grids.choices import RegionLevel, UserRole
from grids.errors import DomainError
from grids.models import Region, Resident

from . import services
from .choices import AwardStatus, CapPeriod
from .models import CommunityPointsPolicy, Prize, RuleCategory, RuleItem
from .selectors import account_of, prizes_available_to

# 微善积分超市 (seed 004): 社会治安、公益等 5 大类 40 项服务事项; seed 000 names
# 遵守村规民约、志愿服务、见义勇为. (code, name, points, cap count, cap period)
CATALOGUE = (
    (
        "public_security",
        "社会治安",
        (
            ("patrol", "参加义务巡逻", 5, 8, CapPeriod.MONTH),
            ("clue", "提供治安线索", 10, 3, CapPeriod.MONTH),
            ("dispute", "协助调解邻里纠纷", 10, 4, CapPeriod.MONTH),
            ("fraud_talk", "参加反诈宣传", 3, 2, CapPeriod.MONTH),
            ("fire_check", "协助消防安全排查", 5, 4, CapPeriod.MONTH),
            ("drug_talk", "参加禁毒宣传", 3, 2, CapPeriod.MONTH),
            ("hazard", "报告安全隐患", 5, 5, CapPeriod.MONTH),
            ("traffic", "文明交通劝导", 3, 8, CapPeriod.MONTH),
        ),
    ),
    (
        "public_welfare",
        "公益服务",
        (
            ("cleanup", "清理楼道杂物", 3, 4, CapPeriod.MONTH),
            ("garbage", "垃圾分类示范", 2, 8, CapPeriod.MONTH),
            ("greening", "参与绿化养护", 3, 4, CapPeriod.MONTH),
            ("donate", "爱心捐赠", 5, 2, CapPeriod.MONTH),
            ("blood", "无偿献血", 20, 2, CapPeriod.YEAR),
            ("elderly_meal", "助餐送餐", 3, 8, CapPeriod.MONTH),
            ("repair", "义务维修", 5, 4, CapPeriod.MONTH),
            ("ad_removal", "清除小广告", 2, 8, CapPeriod.MONTH),
        ),
    ),
    (
        "volunteering",
        "志愿服务",
        (
            ("visit_elderly", "走访独居老人", 5, 8, CapPeriod.MONTH),
            ("tutoring", "关爱留守儿童", 5, 4, CapPeriod.MONTH),
            ("epidemic", "疫情防控值守", 5, 8, CapPeriod.MONTH),
            ("event", "社区活动志愿者", 3, 4, CapPeriod.MONTH),
            ("census", "协助入户信息采集", 5, 4, CapPeriod.MONTH),
            ("policy_talk", "政策宣讲", 3, 2, CapPeriod.MONTH),
            ("party_wish", "认领微心愿", 5, 2, CapPeriod.MONTH),
            ("hotline", "协助办理12345诉求", 5, 4, CapPeriod.MONTH),
        ),
    ),
    (
        "village_rules",
        "遵守村规民约",
        (
            ("civil_family", "评为文明家庭", 20, 1, CapPeriod.YEAR),
            ("frugal_wedding", "婚事新办", 10, 1, CapPeriod.YEAR),
            ("simple_funeral", "丧事简办", 10, 1, CapPeriod.YEAR),
            ("filial", "孝老爱亲", 10, 2, CapPeriod.YEAR),
            ("clean_yard", "庭院整洁", 2, 1, CapPeriod.MONTH),
            ("no_burning", "不燃放秸秆", 3, 1, CapPeriod.MONTH),
            ("pet_rules", "文明养犬", 2, 1, CapPeriod.MONTH),
            ("neighbours", "邻里互助", 3, 4, CapPeriod.MONTH),
        ),
    ),
    (
        "heroism",
        "见义勇为",
        (
            ("rescue", "见义勇为救人", 50, None, ""),
            ("stop_crime", "制止违法犯罪", 30, None, ""),
            ("fire_rescue", "协助扑救火情", 30, None, ""),
            ("lost_found", "拾金不昧", 10, None, ""),
            ("flood", "防汛抢险", 20, None, ""),
            ("first_aid", "现场急救", 20, None, ""),
            ("report_crime", "举报违法犯罪", 20, None, ""),
            ("protect_property", "保护公共财产", 10, None, ""),
        ),
    ),
)

COMMUNITY_PRIZES = (
    ("洗衣液", 30, 40),
    ("毛巾", 20, 60),
    ("大米 5kg", 80, 20),
    ("食用油 5L", 120, 10),
)
STREET_PRIZES = (("电饭煲", 300, 5), ("理发服务券", 15, 100))


def seed(*, stdout, rng, small: bool = False) -> None:
    """``small`` changes nothing here: the catalogue is small already."""
    if RuleCategory.objects.exists():
        stdout.write("points: catalogue exists, nothing to do")
        return
    items = _catalogue()
    communities = list(
        Region.objects.filter(level=RegionLevel.COMMUNITY).order_by("tree_id", "lft")
    )
    streets = list(
        Region.objects.filter(level=RegionLevel.STREET).order_by("tree_id", "lft")
    )
    _policies(communities)
    _prizes(communities, streets)
    User = get_user_model()
    admin = (
        User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    )
    if admin is None:
        stdout.write("points: no superuser to book with; catalogue and prizes only")
        return
    booked = _awards(rng, admin, communities, items)
    redeemed = _redemptions(rng, admin, communities)
    stdout.write(
        f"points: {len(items)} rule items, {len(communities)} policies, "
        f"{Prize.objects.count()} prizes, {booked} awards booked, "
        f"{redeemed} redemptions"
    )


def _catalogue() -> list[RuleItem]:
    categories = RuleCategory.objects.bulk_create(
        [
            RuleCategory(code=code, name=name, sort_order=order)
            for order, (code, name, _items) in enumerate(CATALOGUE, start=1)
        ]
    )
    by_code = {c.code: c for c in RuleCategory.objects.all()}
    items = [
        RuleItem(
            category=by_code[category_code],
            code=f"{category_code}.{code}",
            name=name,
            points=points,
            cap_count=cap,
            cap_period=period,
        )
        for category_code, _name, entries in CATALOGUE
        for code, name, points, cap, period in entries
    ]
    RuleItem.objects.bulk_create(items)
    assert len(categories) == 5 and len(items) == 40
    return list(RuleItem.objects.order_by("pk"))


def _policies(communities) -> None:
    # The second street's communities pool per household; the first community
    # lets points expire at year end: both settings can be seen in the demo.
    CommunityPointsPolicy.objects.bulk_create(
        [
            CommunityPointsPolicy(
                community=c,
                pool_by_household=index >= len(communities) // 2,
                expire_at_year_end=index == 0,
            )
            for index, c in enumerate(communities)
        ]
    )


def _prizes(communities, streets) -> None:
    rows = [
        Prize(region=c, name=name, price=price, stock=stock)
        for c in communities
        for name, price, stock in COMMUNITY_PRIZES
    ] + [
        Prize(region=s, name=name, price=price, stock=stock)
        for s in streets
        for name, price, stock in STREET_PRIZES
    ]
    Prize.objects.bulk_create(rows)


def _awards(rng, admin, communities, items) -> int:
    # The demo grid worker proposes in their own grid; elsewhere the admin does.
    worker = (
        get_user_model()
        .objects.filter(username="grid", role=UserRole.GRID_WORKER)
        .select_related("region")
        .first()
    )
    today = timezone.localdate()
    booked = 0
    for community in communities:
        residents = list(
            Resident.objects.in_subtree(community)
            .active()
            .select_related("household__region")
            .order_by("pk")[:300]
        )
        if not residents:
            continue
        chosen = rng.sample(residents, min(20, len(residents)))
        for n in range(30):
            resident = rng.choice(chosen)
            in_worker_grid = worker and worker.can_see_region(resident.household.region)
            try:
                award, _ = services.award_propose(
                    actor=worker if in_worker_grid else admin,
                    resident_id=resident.pk,
                    rule_item_id=rng.choice(items).pk,
                    awarded_on=today
                    - dt.timedelta(
                        days=rng.randrange(services.deed_max_age_days() + 1)
                    ),
                    idempotency_key=f"demo-{community.pk}-{n}",
                    note="",
                )
                if n < 24:  # the rest wait in the approvals queue
                    services.award_approve(actor=admin, award_id=award.pk)
                    booked += 1
            except DomainError:
                continue  # a cap reached, a rule not in force: skip it
    return booked


def _redemptions(rng, admin, communities) -> int:
    done = 0
    for community in communities[:4]:
        residents = (
            Resident.objects.in_subtree(community)
            .filter(points_awards__status=AwardStatus.APPROVED)
            .distinct()[:10]
        )
        for resident in residents:
            account = account_of(resident)
            prizes = [
                p
                for p in prizes_available_to(resident)
                if account and p.price <= account.balance and p.stock > 0
            ]
            if not prizes:
                continue
            redemption = services.redemption_create(
                actor=admin, resident_id=resident.pk, prize_id=rng.choice(prizes).pk
            )
            done += 1
            if done == 1:
                services.redemption_cancel(
                    actor=admin,
                    redemption_id=redemption.pk,
                    reason="演示：居民改换奖品",
                )
    return done

"""Issue 9, the points findings: backdated deeds past the caps (4), a retried
redemption told "not enough points" (8a), a stock delta beyond 32 bits (7),
live formulas in the ledger export (8b), public enumerable rankings (8c)."""

import datetime as dt
import io

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from grids.choices import UserRole
from grids.errors import Conflict, DomainError
from points import links, services
from points.choices import AwardStatus, CapPeriod
from points.links import statement_url
from points.models import Award, Prize, Redemption
from points.selectors import account_of, accounts_with_drift
from tests.grids.factories import UserFactory
from tests.points.factories import (
    AwardFactory,
    PrizeFactory,
    RuleItemFactory,
    resident_in,
)
from tests.points.test_services_redemptions import race

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row locks (SELECT … FOR UPDATE) need PostgreSQL",
)


def propose(actor, resident, item, *, key, day):
    return services.award_propose(
        actor=actor,
        resident_id=resident.pk,
        rule_item_id=item.pk,
        awarded_on=day,
        idempotency_key=key,
    )


# --- finding 4: deed dates and caps ------------------------------------------------


def test_a_deed_dated_year_one_is_refused(grid_worker, resident, rule_item):
    with pytest.raises(DomainError) as exc:
        propose(grid_worker, resident, rule_item, key="old", day=dt.date(1, 1, 1))
    assert exc.value.code == "deed_too_old"
    assert not Award.objects.exists()


def test_deed_date_window_is_90_days_by_default(grid_worker, resident, rule_item):
    today = timezone.localdate()
    propose(grid_worker, resident, rule_item, key="in", day=today - dt.timedelta(90))
    with pytest.raises(DomainError) as exc:
        propose(
            grid_worker, resident, rule_item, key="out", day=today - dt.timedelta(91)
        )
    assert exc.value.code == "deed_too_old"


def test_deed_date_window_is_read_from_settings_at_call_time(
    grid_worker, resident, rule_item
):
    day = timezone.localdate() - dt.timedelta(10)
    with override_settings(POINTS_DEED_MAX_AGE_DAYS=7), pytest.raises(DomainError):
        propose(grid_worker, resident, rule_item, key="a", day=day)
    with override_settings(POINTS_DEED_MAX_AGE_DAYS=30):
        propose(grid_worker, resident, rule_item, key="b", day=day)


def test_a_future_deed_is_refused(grid_worker, resident, rule_item):
    tomorrow = timezone.localdate() + dt.timedelta(1)
    with pytest.raises(DomainError) as exc:
        propose(grid_worker, resident, rule_item, key="f", day=tomorrow)
    assert exc.value.code == "future_date"


def test_an_old_deed_is_refused_again_at_approval(community_staff, resident, rule_item):
    # A proposal written before the window shrank (or straight to the table).
    award = AwardFactory(
        resident=resident,
        rule_item=rule_item,
        awarded_on=timezone.localdate() - dt.timedelta(200),
    )
    with pytest.raises(Conflict) as exc:
        services.award_approve(actor=community_staff, award_id=award.pk)
    assert exc.value.code == "deed_too_old"
    award.refresh_from_db()
    assert award.status == AwardStatus.PROPOSED
    assert account_of(resident) is None or account_of(resident).balance == 0


def test_a_future_deed_is_refused_at_approval(community_staff, resident, rule_item):
    award = AwardFactory(
        resident=resident,
        rule_item=rule_item,
        awarded_on=timezone.localdate() + dt.timedelta(3),
    )
    with pytest.raises(Conflict) as exc:
        services.award_approve(actor=community_staff, award_id=award.pk)
    assert exc.value.code == "future_date"


def _last_month_day():
    return timezone.localdate().replace(day=1) - dt.timedelta(days=1)


def test_24_backdated_proposals_in_one_past_month_approve_at_most_the_cap(
    grid_worker, community_staff, resident
):
    item = RuleItemFactory(points=5, cap_count=1, cap_period=CapPeriod.MONTH)
    day = _last_month_day()
    ids = [
        propose(grid_worker, resident, item, key=f"b{i}", day=day)[0].pk
        for i in range(24)
    ]
    approved, refused = services.award_bulk_approve(
        actor=community_staff, award_ids=ids
    )
    assert len(approved) == 1 and len(refused) == 23
    assert account_of(resident).balance == 5


def test_backdated_proposals_across_months_stay_inside_the_window(
    grid_worker, community_staff, resident
):
    """The attack: one deed a month, dated back 24 months. Only the months the
    window reaches are accepted, one approval each."""
    item = RuleItemFactory(points=5, cap_count=1, cap_period=CapPeriod.MONTH)
    today = timezone.localdate()
    accepted = []
    for months_back in range(24):
        day = today.replace(day=1)
        for _ in range(months_back):
            day = (day - dt.timedelta(days=1)).replace(day=1)
        day = day.replace(day=min(today.day, 28))
        try:
            award, _ = propose(
                grid_worker, resident, item, key=f"m{months_back}", day=day
            )
        except DomainError as exc:
            assert exc.code == "deed_too_old"
        else:
            accepted.append(award.pk)
    approved, _ = services.award_bulk_approve(actor=community_staff, award_ids=accepted)
    assert 3 <= len(approved) <= 4  # 90 days reach back three or four months
    assert account_of(resident).balance == 5 * len(approved)


@pytest.mark.parametrize(
    ("period", "cap"),
    [(CapPeriod.DAY, 1), (CapPeriod.WEEK, 2), (CapPeriod.YEAR, 3)],
)
def test_caps_count_the_deeds_own_past_period(
    grid_worker, community_staff, resident, period, cap
):
    item = RuleItemFactory(points=1, cap_count=cap, cap_period=period)
    day = timezone.localdate() - dt.timedelta(days=40)
    ids = [
        propose(grid_worker, resident, item, key=f"p{i}", day=day)[0].pk
        for i in range(cap + 2)
    ]
    approved, refused = services.award_bulk_approve(
        actor=community_staff, award_ids=ids
    )
    assert len(approved) == cap and len(refused) == 2


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_of_backdated_deeds_respect_the_cap(
    grid_worker, community_staff, resident
):
    item = RuleItemFactory(points=5, cap_count=1, cap_period=CapPeriod.MONTH)
    day = _last_month_day()
    ids = [
        propose(grid_worker, resident, item, key=f"r{i}", day=day)[0].pk
        for i in range(2)
    ]

    outcomes = race(
        2, lambda i: services.award_approve(actor=community_staff, award_id=ids[i])
    )

    assert sorted(outcomes) == ["cap_reached", "ok"]
    assert Award.objects.filter(status=AwardStatus.APPROVED).count() == 1
    assert account_of(resident).balance == 5


def test_proposal_form_shows_the_window_error(client, grid_worker, resident, rule_item):
    client.force_login(grid_worker)
    response = client.post(
        reverse("m:points:propose"),
        {
            "resident": resident.pk,
            "rule_item": rule_item.pk,
            "awarded_on": "0001-01-01",
            "idempotency_key": "form-old",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert not Award.objects.exists()


# --- finding 8a: a retried redemption ------------------------------------------------


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_redemption_retried_concurrently_with_enough_for_one_returns_the_first(
    tree, community_staff, resident, credit
):
    credit(resident, 10)
    prize = PrizeFactory(region=tree["communities"][0], price=10, stock=5)
    returned = [None] * 2

    def work(i):
        returned[i] = services.redemption_create(
            actor=community_staff,
            resident_id=resident.pk,
            prize_id=prize.pk,
            idempotency_key="retry",
        )

    outcomes = race(2, work)

    assert outcomes == ["ok", "ok"]
    (redemption,) = Redemption.objects.all()
    assert {r.pk for r in returned} == {redemption.pk}
    assert account_of(resident).balance == 0
    prize.refresh_from_db()
    assert prize.stock == 4
    assert not accounts_with_drift().exists()


def test_redemption_retried_after_the_balance_is_spent_returns_the_first(
    tree, community_staff, resident, credit
):
    credit(resident, 10)
    prize = PrizeFactory(region=tree["communities"][0], price=10, stock=1)
    first = services.redemption_create(
        actor=community_staff,
        resident_id=resident.pk,
        prize_id=prize.pk,
        idempotency_key="again",
    )
    again = services.redemption_create(
        actor=community_staff,
        resident_id=resident.pk,
        prize_id=prize.pk,
        idempotency_key="again",
    )
    assert again.pk == first.pk


# --- finding 7: stock delta beyond 32 bits ---------------------------------------------


@pytest.mark.parametrize("delta", [99999999999, -99999999999, 2**31])
def test_huge_stock_delta_is_a_domain_error(tree, community_staff, delta):
    prize = PrizeFactory(region=tree["communities"][0], stock=5)
    with pytest.raises(DomainError) as exc:
        services.prize_adjust_stock(
            actor=community_staff, prize_id=prize.pk, delta=delta
        )
    assert exc.value.code in {"invalid", "out_of_stock"}
    prize.refresh_from_db()
    assert prize.stock == 5


def test_stock_may_not_grow_past_the_bound(tree, community_staff):
    prize = PrizeFactory(region=tree["communities"][0], stock=services.MAX_STOCK)
    with pytest.raises(DomainError):
        services.prize_adjust_stock(actor=community_staff, prize_id=prize.pk, delta=1)


def test_huge_stock_at_creation_is_a_domain_error(tree, community_staff):
    with pytest.raises(DomainError):
        services.prize_create(
            actor=community_staff,
            region=tree["communities"][0],
            name="毛巾",
            price=10,
            stock=99999999999,
        )
    assert not Prize.objects.exists()


@pytest.mark.parametrize("delta", ["99999999999", "-99999999999"])
def test_huge_stock_delta_in_the_admin_is_a_form_error(
    client, tree, community_staff, delta
):
    client.force_login(community_staff)
    prize = PrizeFactory(region=tree["communities"][0], price=40, stock=2)
    response = client.post(
        reverse("admin:points_prize_change", args=[prize.pk]),
        {
            "name": prize.name,
            "description": "",
            "price": 40,
            "stock_delta": delta,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "stock_delta" in response.context["adminform"].form.errors
    prize.refresh_from_db()
    assert prize.stock == 2


def test_huge_stock_in_the_admin_add_form_is_a_form_error(
    client, tree, community_staff
):
    client.force_login(community_staff)
    response = client.post(
        reverse("admin:points_prize_add"),
        {
            "region": tree["communities"][0].pk,
            "name": "毛巾",
            "description": "",
            "price": 40,
            "stock": "99999999999",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "stock" in response.context["adminform"].form.errors


# --- finding 8b: formulas in the ledger export ----------------------------------------

FORMULAS = [
    '=HYPERLINK("http://evil.example/","点我")',
    "+1+1",
    "-1+1",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("evil", FORMULAS)
def test_ledger_export_carries_no_live_formula(
    client, tree, community_staff, credit, evil
):
    resident = resident_in(tree["grids"][0], name=evil[:50])
    credit(resident, 30)
    prize = PrizeFactory(region=tree["communities"][0], name=evil[:100], price=10)
    services.redemption_create(
        actor=community_staff, resident_id=resident.pk, prize_id=prize.pk
    )
    client.force_login(community_staff)
    today = timezone.localdate()
    response = client.get(
        reverse("admin:points_ledgerentry_export"),
        {
            "community": tree["communities"][0].pk,
            "year": today.year,
            "month": today.month,
            "download": "1",
        },
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert "'" + evil[:50].replace("\r", "\n") in texts  # the name, as text
    assert not [t for t in texts if t and t[0] in "=+-@\t\r\n"]
    # numbers stay numbers (a debit is a negative number, not text)
    assert -10 in [c.value for c in cells]


# --- finding 8c: rankings behind a signed link or a login --------------------------


def test_unsigned_rankings_are_not_public(client, tree):
    url = reverse("points:rankings", args=[tree["communities"][0].pk])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_signed_rankings_link_opens_without_an_account(client, tree, credit):
    credit(resident_in(tree["grids"][0], name="张三丰"), 20)
    response = client.get(links.rankings_url(tree["communities"][0]))
    assert response.status_code == 200
    assert [r["name"] for r in response.context["ranking"]] == ["张*丰"]
    assert response["Cache-Control"] == "private, no-store"
    # the year/month form keeps the signed address
    assert response.context["community"] == tree["communities"][0]


def test_tampered_or_other_communitys_signature_is_404(client, tree):
    ours, theirs = tree["communities"][0], tree["communities"][1]
    signature = links.rankings_url(ours).rstrip("/").rsplit("/", 1)[1]
    for community_id, sig in [
        (ours.pk, signature[:-1] + ("A" if signature[-1] != "A" else "B")),
        (theirs.pk, signature),
        (ours.pk, "x"),
    ]:
        url = reverse("points:rankings_public", args=[community_id, sig])
        assert client.get(url).status_code == 404


def test_signed_link_of_a_grid_is_404(client, tree):
    assert client.get(links.rankings_url(tree["grids"][0])).status_code == 404


@pytest.mark.parametrize("who", ["community_staff", "street_staff", "grid_worker"])
def test_logged_in_users_see_rankings_of_their_community(client, tree, request, who):
    client.force_login(request.getfixturevalue(who))
    url = reverse("points:rankings", args=[tree["communities"][0].pk])
    response = client.get(url)
    assert response.status_code == 200
    # the signed 公示 link to print for the notice board
    assert links.rankings_url(tree["communities"][0]) in response.content.decode()


@pytest.mark.parametrize("who", ["community_staff", "grid_worker"])
def test_logged_in_users_get_404_for_another_community(client, tree, request, who):
    client.force_login(request.getfixturevalue(who))
    url = reverse("points:rankings", args=[tree["communities"][1].pk])
    assert client.get(url).status_code == 404


def test_rankings_of_unknown_ids_look_like_other_communities(client, tree):
    """No enumeration: an unknown id and an out-of-scope one answer alike."""
    user = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0])
    client.force_login(user)
    unknown = client.get(reverse("points:rankings", args=[999999]))
    other = client.get(reverse("points:rankings", args=[tree["communities"][1].pk]))
    assert unknown.status_code == other.status_code == 404


def test_statement_links_to_the_signed_rankings(client, tree, resident):
    body = client.get(statement_url(resident)).content.decode()
    assert links.rankings_url(tree["communities"][0]) in body

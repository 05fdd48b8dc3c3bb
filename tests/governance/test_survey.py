"""以下评上: the residents' survey (governance.survey) on hand-built data: the
signed links, one answer per respondent and period (also two at once), bad
input, the SMS sending job, the public page, the link from the ticket's
evaluation page, the scoped results, and the survey's share of the grid score
(governance.services.rate_grids) with known answers."""

import datetime as dt
import re
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from governance import survey
from governance.models import GridRating, RatingRuleSet, SurveyAnswer, SurveySending
from governance.services import mixed_score, rate_grids
from grids import sms
from grids.choices import UserRole
from grids.errors import Conflict, DomainError, OutOfScope
from tests.grids.factories import HouseholdFactory, ResidentFactory, UserFactory
from tests.tickets.factories import TicketFactory, aware
from tickets.choices import Stage, Verdict
from tickets.services.evaluation import after_verdict_link, evaluation_url

NOV = dt.date(2026, 11, 1)
LOCMEM = "grids.sms.LocmemSmsBackend"


def rules(**values):
    version = RatingRuleSet.objects.filter(region=None).count() + 1
    return RatingRuleSet.objects.create(region=None, version=version, **values)


def link(grid, respondent="h1", kind="month", start=NOV):
    return survey.survey_token(
        grid_id=grid.pk, kind=kind, start=start, respondent=respondent
    )


def answer(grid, marks, respondent, kind="month", start=NOV):
    a, c, e = marks
    return survey.survey_answer_submit(
        token=link(grid, respondent, kind, start), attitude=a, conduct=c, effect=e
    )


# --- periods and links -------------------------------------------------------------


def test_period_start_of_month_and_quarter():
    day = dt.date(2026, 11, 17)
    assert survey.period_start(day, "month") == dt.date(2026, 11, 1)
    assert survey.period_start(day, "quarter") == dt.date(2026, 10, 1)
    assert survey.period_start(dt.date(2026, 3, 31), "quarter") == dt.date(2026, 1, 1)


def test_an_answer_is_recorded_once_per_respondent_and_period(tree):
    grid = tree["grids"][0]
    household = HouseholdFactory(region=grid)
    saved = answer(grid, (5, 4, "3"), f"h{household.pk}")
    assert (saved.attitude, saved.conduct, saved.effect) == (5, 4, 3)
    assert saved.household_id == household.pk
    with pytest.raises(Conflict) as refused:
        answer(grid, (1, 1, 1), f"h{household.pk}")
    assert refused.value.code == "already_answered"
    assert SurveyAnswer.objects.count() == 1
    # Another period takes a new answer.
    answer(grid, (1, 1, 1), f"h{household.pk}", start=dt.date(2026, 12, 1))
    assert SurveyAnswer.objects.count() == 2


@pytest.mark.parametrize(
    "marks", [(0, 3, 3), (6, 3, 3), ("x", 3, 3), ("", 3, 3), (None, 3, 3), (3.5, 3, 3)]
)
def test_bad_marks_are_refused_and_nothing_is_written(tree, marks):
    with pytest.raises(DomainError) as refused:
        answer(tree["grids"][0], marks, "h1")
    assert refused.value.code == "invalid"
    assert not SurveyAnswer.objects.exists()


def test_a_huge_comment_and_a_forged_or_expired_link_are_refused(tree):
    grid = tree["grids"][0]
    with pytest.raises(DomainError) as huge:
        survey.survey_answer_submit(
            token=link(grid), attitude=3, conduct=3, effect=3, comment="长" * 1001
        )
    assert huge.value.code == "too_long"
    with pytest.raises(DomainError) as forged:
        survey.survey_answer_submit(
            token=link(grid) + "x", attitude=3, conduct=3, effect=3
        )
    assert forged.value.code == "link_invalid"
    with (
        override_settings(SURVEY_LINK_MAX_AGE_DAYS=-1),
        pytest.raises(DomainError) as expired,
    ):
        survey.survey_state(token=link(grid))
    assert expired.value.code == "link_expired"
    assert not SurveyAnswer.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL")
def test_two_answers_at_once_keep_one(tree):
    grid = tree["grids"][0]
    token = link(grid, "h42")
    outcomes, barrier = [], threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            survey.survey_answer_submit(token=token, attitude=4, conduct=4, effect=4)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert SurveyAnswer.objects.count() == 1


# --- sending -----------------------------------------------------------------------


@override_settings(SMS_BACKEND=LOCMEM)
def test_links_go_once_per_household_and_period(
    tree, django_capture_on_commit_callbacks
):
    grid = tree["grids"][0]
    reached = ResidentFactory(household__region=grid, phone="13800000001")
    ResidentFactory(household__region=grid, phone="")  # no number: left out
    ResidentFactory(household__region=tree["grids"][1], phone="13800000002")
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = survey.survey_send_links(
            base_url="https://gw.example", day=dt.date(2026, 11, 15)
        )
    assert sent == 2
    assert len(sms.outbox) == 2
    message = next(m for m in sms.outbox if m.to == "13800000001")
    assert "https://gw.example/survey/a/" in message.body
    assert (
        "/survey/a/" not in message.redacted_body.split("https://gw.example")[1][:12]
        or "…" in message.redacted_body
    )
    sending = SurveySending.objects.get(household=reached.household)
    assert sending.masked_to != "13800000001" and sending.period_start == NOV
    with django_capture_on_commit_callbacks(execute=True):
        again = survey.survey_send_links(
            base_url="https://gw.example", day=dt.date(2026, 11, 20)
        )
    assert again == 0 and len(sms.outbox) == 2
    # The link in the message opens the household's survey.
    path = message.body.split("https://gw.example")[1].split()[0]
    token = path.rstrip("/").rsplit("/", 1)[1]
    state = survey.survey_state(token=token)
    assert state["grid"] == grid and not state["answered"]


# --- the public page ---------------------------------------------------------------


def test_the_public_page_takes_one_answer(client, tree):
    grid = tree["grids"][0]
    url = reverse("survey:answer", args=[link(grid, "h7")])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert grid.name in page.content.decode()
    data = {"attitude": "5", "conduct": "4", "effect": "4", "comment": "很好"}
    response = client.post(url, data, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "your answer was recorded" in response.content.decode()
    again = client.post(url, data, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert "already answered" in again.content.decode()
    assert SurveyAnswer.objects.get().comment == "很好"
    assert client.get(reverse("survey:answer", args=["nonsense"])).status_code == 404


def test_the_page_speaks_chinese_by_default(client, tree):
    page = client.get(reverse("survey:answer", args=[link(tree["grids"][0])]))
    assert "工作态度" in page.content.decode()


# --- from the ticket's evaluation page ---------------------------------------------


def test_the_evaluation_page_links_to_the_grid_survey_after_the_verdict(client, tree):
    grid = tree["grids"][0]
    ticket = TicketFactory(
        region=grid,
        stage=Stage.CLOSED,
        verdict=Verdict.SATISFIED,
        reporter_phone="13900000009",
        closed_at=aware(2026, 11, 20, 9, 0),
    )
    found = after_verdict_link(ticket)
    assert found is not None and "/survey/a/" in found["url"]
    page = client.get(evaluation_url(ticket=ticket))
    # The page's own link (signed a moment later than ``found``: the two can
    # differ by their timestamp, so the page's link is the one answered).
    links = re.findall(r"/survey/a/[^\"'\s<]+", page.content.decode())
    assert links, "the evaluation page shows no survey link"
    token = links[0].rstrip("/").rsplit("/", 1)[1]
    saved = survey.survey_answer_submit(token=token, attitude=4, conduct=4, effect=5)
    assert saved.grid == grid and saved.respondent.startswith("t")
    assert "13900000009" not in saved.respondent
    # No verdict yet: no link.
    waiting = TicketFactory(region=grid, stage=Stage.HANDLED, reporter_phone="1")
    assert after_verdict_link(waiting) is None
    with override_settings(TICKETS_AFTER_VERDICT_LINK=""):
        assert after_verdict_link(ticket) is None


# --- results -----------------------------------------------------------------------


def test_results_per_grid_are_scoped(client, tree, other_tree):
    own, far = tree["grids"][0], other_tree["grids"][0]
    answer(own, (5, 3, 4), "h1")
    answer(own, (3, 3, 2), "h2")
    answer(far, (1, 1, 1), "h3")
    staff = UserFactory(role=UserRole.COMMUNITY_STAFF, region=tree["communities"][0])
    rows = survey.survey_results(
        actor=staff, region=own.parent, start=NOV, kind="month"
    )
    assert len(rows) == 1
    row = rows[0]
    assert row["answers"] == 2 and row["attitude_mean"] == 4
    # 20 points over 6 items: (20/6 − 1) / 4 = 7/12.
    assert row["value"] == (Decimal(20) / 6 - 1) / 4
    with pytest.raises(OutOfScope):
        survey.survey_results(actor=staff, region=far, start=NOV, kind="month")
    client.force_login(staff)
    page = client.get(
        reverse("survey:results"), {"region": own.parent_id, "period": "2026-11-05"}
    )
    assert page.status_code == 200 and own.name in page.content.decode()
    assert client.get(reverse("survey:results"), {"region": far.pk}).status_code == 404


# --- the survey's share of the grid score ------------------------------------------


def closed(grid, verdict, n=1):
    for _ in range(n):
        TicketFactory(
            region=grid,
            stage=Stage.CLOSED,
            closed_at=aware(2026, 11, 20, 9, 0),
            verdict=verdict,
        )


def test_mixed_score_formula():
    assert mixed_score(Decimal(100), Decimal("0.5"), 40) == Decimal("80.00")
    assert mixed_score(Decimal(100), Decimal("0.5"), 0) == Decimal(100)
    assert mixed_score(Decimal(100), None, 40) == Decimal(100)
    assert mixed_score(None, Decimal("0.25"), 40) == Decimal("25.00")
    assert mixed_score(None, None, 40) is None


def test_rate_grids_mixes_the_survey_with_its_weight(tree):
    rules(weights={"satisfaction_rate": 1}, survey_weight=40, min_tickets=0)
    scored, empty, surveyed_only, plain = tree["grids"]
    closed(scored, Verdict.SATISFIED, n=10)
    answer(scored, (3, 3, 3), "h1")
    answer(scored, (3, 3, 3), "h2")
    answer(surveyed_only, (5, 5, 5), "h3")
    closed(plain, Verdict.SATISFIED, n=2)
    rate_grids(month=NOV)
    ratings = {r.grid_id: r for r in GridRating.objects.filter(month=NOV)}
    # Indicators 100, survey (3 − 1)/4 = 0.5: 0.6·100 + 0.4·50 = 80.
    assert ratings[scored.pk].score == Decimal("80.00")
    assert ratings[scored.pk].indicators["indicator_score"] == 100
    assert ratings[scored.pk].indicators["survey"]["answers"] == 2
    assert ratings[empty.pk].score is None
    assert ratings[surveyed_only.pk].score == Decimal("100.00")
    assert ratings[plain.pk].score == Decimal("100.00")  # no answers: indicators


def test_few_answers_are_shrunk_toward_the_street(tree):
    rules(weights={"satisfaction_rate": 1}, survey_weight=100, min_tickets=5)
    few, many = tree["grids"][:2]
    answer(few, (1, 1, 1), "h1")
    for k in range(9):
        answer(many, (5, 5, 5), f"h{10 + k}")
    rate_grids(month=NOV)
    ratings = {r.grid_id: r for r in GridRating.objects.filter(month=NOV)}
    # Street: 138 points over 30 items → (4.6 − 1)/4 = 0.9; few: (0 + 5·0.9)/6.
    assert ratings[few.pk].score == Decimal("75.00")
    assert "survey" in ratings[few.pk].smoothed
    assert ratings[few.pk].indicators["survey"]["raw"] == 0
    assert ratings[many.pk].score == Decimal("100.00")


def test_a_quarterly_survey_counts_in_each_month_of_its_quarter(tree):
    rules(
        weights={"satisfaction_rate": 1},
        survey_weight=50,
        survey_period="quarter",
        min_tickets=0,
    )
    grid = tree["grids"][0]
    answer(grid, (5, 5, 5), "h1", kind="quarter", start=dt.date(2026, 10, 1))
    answer(grid, (1, 1, 1), "h2", kind="month", start=NOV)  # not this rule's kind
    rate_grids(month=NOV)
    rating = GridRating.objects.get(month=NOV, grid=grid)
    assert rating.score == Decimal("100.00")
    assert rating.indicators["survey"]["period"] == "quarter"


@override_settings(SMS_BACKEND=LOCMEM, SITE_BASE_URL="https://site.example")
def test_the_task_sends_through_the_service(tree, django_capture_on_commit_callbacks):
    from governance.tasks import survey_send_links_task

    ResidentFactory(household__region=tree["grids"][0], phone="13800000003")
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert survey_send_links_task("2026-11-15") == 1
        assert survey_send_links_task("2026-11-16") == 0
    assert sms.outbox[0].body.count("https://site.example/survey/a/") == 1

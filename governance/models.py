"""The monthly A/B/C grid rating (seed 000: A 抓示范, B 抓提升, C 抓整治; seed 003
月评比): the versioned rule sets, each grid's rating of a month, a street's
publication of its month, and the appeals (申诉) with their decisions and the
class changes they make, kept as history (append-only)."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids.append_only import AppendOnlyModel
from grids.models import Region


class RatingClass(models.TextChoices):
    # A 类 抓示范: the model grids, shown to the others.
    A = "A", _("Class A (model)")
    # B 类 抓提升: the bulk, to be lifted.
    B = "B", _("Class B (to improve)")
    # C 类 抓整治: the grids to put right.
    C = "C", _("Class C (to put right)")


class ClassMethod(models.TextChoices):
    # 按比例: the best share of a street's grids is A, the worst share C.
    QUOTAS = "quotas", _("Quotas within the street")
    # 按分数线: A at or above one score, C below another.
    THRESHOLDS = "thresholds", _("Score thresholds")


class RatingState(models.TextChoices):
    # 草稿: computed by the job; a rerun replaces it.
    DRAFT = "draft", _("Draft")
    # 已发布: published by the street; frozen, open to appeal.
    PUBLISHED = "published", _("Published")


# The weights a new rule set starts from: the 12345 "three rates" and on-time
# closure first (DESIGN.md), then patrol work and participation.
DEFAULT_WEIGHTS = {
    "response_rate": 15,
    "resolution_rate": 15,
    "on_time_rate": 15,
    "satisfaction_rate": 20,
    "rework_rate": 5,
    "grid_closure_share": 5,
    "patrol_day_rate": 10,
    "visit_coverage": 10,
    "points_participation": 5,
}


def default_weights() -> dict:
    return dict(DEFAULT_WEIGHTS)


class RatingRuleSet(models.Model):
    """One version of the rating rules of an area (评比细则). A version is never
    changed once saved: staff save a new one, and each month's rating records the
    version it used. A grid is rated by the newest version of its street, else
    of its district, else the shared one (no area)."""

    region = models.ForeignKey(
        Region,
        verbose_name=_("applies to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("A street or a district; empty: the shared rules."),
    )
    version = models.PositiveIntegerField(_("version"), editable=False)
    weights = models.JSONField(
        _("weights"),
        default=default_weights,
        help_text=_(
            'Weight of each indicator, e.g. {"satisfaction_rate": 20}; the score '
            "is the weighted mean of the indicators a grid has, out of 100."
        ),
    )
    method = models.CharField(
        _("classes by"),
        max_length=16,
        choices=ClassMethod.choices,
        default=ClassMethod.QUOTAS,
    )
    a_share = models.PositiveSmallIntegerField(
        _("share of class A (%)"),
        default=20,
        validators=[MaxValueValidator(100)],
    )
    c_share = models.PositiveSmallIntegerField(
        _("share of class C (%)"),
        default=10,
        validators=[MaxValueValidator(100)],
    )
    a_threshold = models.DecimalField(
        _("lowest score of class A"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(90),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    c_threshold = models.DecimalField(
        _("class C below the score"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(60),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    min_tickets = models.PositiveSmallIntegerField(
        _("minimum ticket count"),
        default=5,
        help_text=_(
            "Below it a grid's ticket rate is shrunk toward its street's mean."
        ),
    )
    smoothing_strength = models.DecimalField(
        _("smoothing strength"),
        max_digits=6,
        decimal_places=2,
        default=Decimal(5),
        validators=[MinValueValidator(0)],
        help_text=_("How many tickets' worth of the street's mean a small grid gets."),
    )
    ordinary_weight = models.DecimalField(
        _("weight of 'fair' in satisfaction"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.8"),
        validators=[MinValueValidator(0), MaxValueValidator(1)],
    )
    survey_weight = models.PositiveSmallIntegerField(
        _("share of the residents' survey (%)"),
        default=0,
        validators=[MaxValueValidator(100)],
        help_text=_(
            "Share of the grid score given by the residents' survey (以下评上); "
            "a grid without answers is scored on its indicators alone."
        ),
    )
    survey_period = models.CharField(
        _("survey period"),
        max_length=8,
        choices=[("month", _("Month")), ("quarter", _("Quarter"))],
        default="month",
        help_text=_("How often the residents' survey of a grid is run."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("saved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("saved at"), auto_now_add=True)

    class Meta:
        verbose_name = _("rating rule set")
        verbose_name_plural = _("rating rule sets")
        ordering = ["region_id", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "version"],
                name="ruleset_one_version_per_area",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(a_share__lte=100 - models.F("c_share")),
                name="ruleset_shares_fit",
            ),
        ]

    def __str__(self):
        area = self.region.name if self.region_id else _("shared")
        return f"{area} v{self.version}"

    def clean(self):
        from .indicators import RATES

        errors = {}
        weights = self.weights
        if not isinstance(weights, dict) or not weights:
            errors["weights"] = _("Give at least one indicator and its weight.")
        else:
            unknown = sorted(set(weights) - set(RATES))
            if unknown:
                errors["weights"] = _("Unknown indicators: %(names)s.") % {
                    "names": ", ".join(unknown)
                }
            elif any(
                not isinstance(w, int | float) or isinstance(w, bool) or w < 0
                for w in weights.values()
            ) or not any(weights.values()):
                errors["weights"] = _(
                    "Weights are numbers of zero or more, at least one above zero."
                )
        if (self.a_share or 0) + (self.c_share or 0) > 100:
            errors["c_share"] = _("The shares of A and C add up to more than 100%.")
        if (
            self.a_threshold is not None
            and self.c_threshold is not None
            and self.c_threshold > self.a_threshold
        ):
            errors["c_threshold"] = _("Class C's score lies above class A's.")
        if errors:
            raise ValidationError(errors)


class RatingPublication(AppendOnlyModel):
    """A street published its grids' ratings of a month (月评比发布): they are
    frozen from then on."""

    street = models.ForeignKey(
        Region,
        verbose_name=_("street"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    month = models.DateField(_("month"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"))

    class Meta:
        verbose_name = _("rating publication")
        verbose_name_plural = _("rating publications")
        ordering = ["-month", "street_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "month"], name="publication_once_per_month"
            )
        ]

    def __str__(self):
        return f"{self.street} {self.month:%Y-%m}"


class GridRating(models.Model):
    """A grid's rating of a month: its score, class, rank in its street and the
    indicator values it came from (with those shrunk toward the street's mean
    named in ``smoothed``). Written only by ``rate_grids`` while a draft; its
    class changes after publication only through an appeal's decision, which
    leaves a ``RatingClassChange`` row."""

    grid = models.ForeignKey(
        Region,
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="ratings",
    )
    street = models.ForeignKey(
        Region,
        verbose_name=_("street"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    month = models.DateField(_("month"))
    rule_set = models.ForeignKey(
        RatingRuleSet,
        verbose_name=_("rule set"),
        on_delete=models.PROTECT,
        related_name="ratings",
    )
    rule_set_version = models.PositiveIntegerField(_("rule set version"))
    score = models.DecimalField(
        _("score"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    # The class the job computed; never changed after the job wrote it.
    computed_class = models.CharField(
        _("computed class"), max_length=1, choices=RatingClass.choices, blank=True
    )
    # The class in force: the computed one, or an appeal's decision.
    rating_class = models.CharField(
        _("class"), max_length=1, choices=RatingClass.choices, blank=True
    )
    rank_in_street = models.PositiveIntegerField(
        _("rank in street"), null=True, blank=True
    )
    grids_in_street = models.PositiveIntegerField(_("grids rated in street"))
    indicators = models.JSONField(_("indicators"), default=dict)
    smoothed = models.JSONField(_("smoothed indicators"), default=list)
    is_smoothed = models.BooleanField(_("smoothed"), default=False)
    state = models.CharField(
        _("state"),
        max_length=16,
        choices=RatingState.choices,
        default=RatingState.DRAFT,
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("grid rating")
        verbose_name_plural = _("grid ratings")
        ordering = ["-month", "street_id", "rank_in_street", "grid_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["grid", "month"], name="rating_once_per_grid_month"
            )
        ]
        indexes = [models.Index(fields=["month", "street"], name="rating_month_street")]

    def __str__(self):
        return f"{self.grid} {self.month:%Y-%m} {self.rating_class or '-'}"


class RatingAppeal(AppendOnlyModel):
    """A community's appeal (申诉) against a grid's published class, with its
    reason. Decided once, by the street (``RatingAppealDecision``)."""

    rating = models.ForeignKey(
        GridRating,
        verbose_name=_("rating"),
        on_delete=models.PROTECT,
        related_name="appeals",
    )
    reason = models.TextField(_("reason for the appeal"))
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("filed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    filed_at = models.DateTimeField(_("filed at"))

    class Meta:
        verbose_name = _("rating appeal")
        verbose_name_plural = _("rating appeals")
        ordering = ["-filed_at", "-pk"]

    def __str__(self):
        return f"{self.rating} #{self.pk}"


class RatingAppealDecision(AppendOnlyModel):
    """The street's decision on an appeal: upheld (with the class it gives) or
    rejected, with a note."""

    appeal = models.OneToOneField(
        RatingAppeal,
        verbose_name=_("appeal"),
        on_delete=models.PROTECT,
        related_name="decision",
    )
    upheld = models.BooleanField(_("upheld"))
    new_class = models.CharField(
        _("new class"), max_length=1, choices=RatingClass.choices, blank=True
    )
    note = models.TextField(_("note"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decision by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decision at"))

    class Meta:
        verbose_name = _("appeal decision")
        verbose_name_plural = _("appeal decisions")
        constraints = [
            models.CheckConstraint(
                condition=Q(upheld=False, new_class="")
                | (Q(upheld=True) & ~Q(new_class="")),
                name="decision_upheld_gives_class",
            )
        ]

    def __str__(self):
        return f"{self.appeal}: {self.new_class or '-'}"


class RatingClassChange(AppendOnlyModel):
    """A change of a published rating's class (动态调整 history): from, to, why."""

    rating = models.ForeignKey(
        GridRating,
        verbose_name=_("rating"),
        on_delete=models.PROTECT,
        related_name="class_changes",
    )
    from_class = models.CharField(
        _("from class"), max_length=1, choices=RatingClass.choices, blank=True
    )
    to_class = models.CharField(
        _("to class"), max_length=1, choices=RatingClass.choices
    )
    decision = models.OneToOneField(
        RatingAppealDecision,
        verbose_name=_("appeal decision"),
        on_delete=models.PROTECT,
        related_name="class_change",
    )
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("rating class change")
        verbose_name_plural = _("rating class changes")
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.rating}: {self.from_class} → {self.to_class}"


# --- 以下评上: the residents' survey of their grid workers (seed 002) ----------


class SurveyPeriod(models.TextChoices):
    # 按月 / 按季度: a survey period starts on the 1st of its month or quarter.
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")


class SurveyScore(models.IntegerChoices):
    VERY_POOR = 1, _("1 - very poor")
    POOR = 2, _("2 - poor")
    FAIR = 3, _("3 - fair")
    GOOD = 4, _("4 - good")
    VERY_GOOD = 5, _("5 - very good")


class SurveyAnswer(AppendOnlyModel):
    """One household's answer to its grid's survey of a period (以下评上: "让群众有
    真正的评价权", seed 002): 1–5 on 工作态度, 工作作风 and 服务成效, an optional
    comment. One answer per respondent and period (a household, or the reporter
    of a ticket reached from the ticket's evaluation page): the unique
    constraint refuses a second one, even when two arrive at once."""

    grid = models.ForeignKey(
        Region, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    period_kind = models.CharField(
        _("period"), max_length=8, choices=SurveyPeriod.choices
    )
    period_start = models.DateField(_("period starts"))
    # "h<household id>" for a household's link, "t<keyed phone digest>" for a
    # ticket reporter's: who answered, never readable as a phone number.
    respondent = models.CharField(_("respondent"), max_length=40, editable=False)
    household = models.ForeignKey(
        "grids.Household",
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    attitude = models.PositiveSmallIntegerField(
        _("work attitude"), choices=SurveyScore.choices
    )
    conduct = models.PositiveSmallIntegerField(
        _("work style"), choices=SurveyScore.choices
    )
    effect = models.PositiveSmallIntegerField(
        _("service results"), choices=SurveyScore.choices
    )
    comment = models.TextField(_("comment"), blank=True)
    answered_at = models.DateTimeField(_("answered at"))

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["-answered_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["grid", "period_kind", "period_start", "respondent"],
                name="survey_one_answer_per_respondent_period",
            ),
            models.CheckConstraint(
                condition=Q(attitude__gte=1, attitude__lte=5)
                & Q(conduct__gte=1, conduct__lte=5)
                & Q(effect__gte=1, effect__lte=5),
                name="survey_scores_one_to_five",
            ),
        ]
        indexes = [
            models.Index(fields=["period_start", "grid"], name="survey_period_grid")
        ]

    def __str__(self):
        return f"{self.grid_id} {self.period_start:%Y-%m} {self.respondent}"


class SurveySending(AppendOnlyModel):
    """A household's survey link sent for a period (by SMS, through the pluggable
    sender): once per household and period, so a rerun of the job sends
    nothing twice. The number is stored masked only."""

    household = models.ForeignKey(
        "grids.Household",
        verbose_name=_("household"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    grid = models.ForeignKey(
        Region, verbose_name=_("grid"), on_delete=models.PROTECT, related_name="+"
    )
    period_kind = models.CharField(
        _("period"), max_length=8, choices=SurveyPeriod.choices
    )
    period_start = models.DateField(_("period starts"))
    masked_to = models.CharField(_("sent to"), max_length=20)
    sent_at = models.DateTimeField(_("sent at"))

    class Meta:
        verbose_name = _("survey link sent")
        verbose_name_plural = _("survey links sent")
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "period_kind", "period_start"],
                name="survey_sent_once_per_household_period",
            )
        ]

    def __str__(self):
        return f"{self.household_id} {self.period_start:%Y-%m}"


class BulletinSending(AppendOnlyModel):
    """A street's weekly bulletin (周通报) of an ISO week sent to its staff and
    the supervisors over it (``governance.bulletin_sending``): once per street
    and week, so a rerun of the Monday job, or two workers at once, send it
    once."""

    street = models.ForeignKey(
        Region, verbose_name=_("street"), on_delete=models.PROTECT, related_name="+"
    )
    week = models.DateField(_("week (its Monday)"))
    recipients = models.PositiveIntegerField(_("recipients"), default=0)
    sent_at = models.DateTimeField(_("sent at"))

    class Meta:
        verbose_name = _("weekly bulletin sent")
        verbose_name_plural = _("weekly bulletins sent")
        ordering = ["-week", "street_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["street", "week"], name="bulletin_sent_once_per_street_week"
            )
        ]

    def __str__(self):
        return f"{self.street_id} {self.week:%G-W%V}"


# --- 五星级网格员: the five-star appraisal of grid workers (seed 000) ----------


class WorkerAppraisalInput(AppendOnlyModel):
    """The manual component of a worker's appraisal of a month, entered by street
    or community staff with a reason (考评打分). Never changed: a new entry for
    the same worker and month replaces the previous one in the computation,
    and all stay as history."""

    worker = models.ForeignKey(
        "grids.GridWorker",
        verbose_name=_("grid worker"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    month = models.DateField(_("month"))
    score = models.DecimalField(
        _("manual score"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_("0 to 100."),
    )
    reason = models.TextField(_("reason"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered at"))

    class Meta:
        verbose_name = _("manual appraisal score")
        verbose_name_plural = _("manual appraisal scores")
        ordering = ["-entered_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=100),
                name="appraisal_input_score_range",
            )
        ]
        indexes = [
            models.Index(fields=["month", "worker"], name="appraisal_input_month")
        ]

    def __str__(self):
        return f"{self.worker_id} {self.month:%Y-%m} {self.score}"


class WorkerAppraisal(models.Model):
    """A grid worker's five-star appraisal of a month (五星级网格员): the three
    components, the total and the stars. Written only by
    ``governance.appraisal.workers_appraise`` (one statement, recomputed on
    every run); docs/domain-rules.md "Five-star grid workers"."""

    worker = models.ForeignKey(
        "grids.GridWorker",
        verbose_name=_("grid worker"),
        on_delete=models.PROTECT,
        related_name="appraisals",
    )
    month = models.DateField(_("month"))
    # The worker's first grid in the month (the scope of the row) and its
    # street (the list per street).
    grid = models.ForeignKey(
        Region,
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    street = models.ForeignKey(
        Region,
        verbose_name=_("street"),
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
    )
    grids = models.JSONField(_("grids"), default=list)
    grid_score = models.DecimalField(
        _("grids' indicators"), max_digits=5, decimal_places=2, null=True
    )
    survey_score = models.DecimalField(
        _("residents' survey"), max_digits=5, decimal_places=2, null=True
    )
    survey_answers = models.PositiveIntegerField(_("survey answers"), default=0)
    manual_score = models.DecimalField(
        _("manual score"), max_digits=5, decimal_places=2, null=True
    )
    total = models.DecimalField(_("total"), max_digits=5, decimal_places=2, null=True)
    stars = models.PositiveSmallIntegerField(_("stars"), null=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("five-star appraisal")
        verbose_name_plural = _("five-star appraisals")
        ordering = ["-month", "street_id", "-total", "worker_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["worker", "month"], name="appraisal_once_per_worker_month"
            ),
            models.CheckConstraint(
                condition=Q(stars__isnull=True) | Q(stars__gte=1, stars__lte=5),
                name="appraisal_stars_one_to_five",
            ),
        ]
        indexes = [
            models.Index(fields=["month", "street"], name="appraisal_month_street")
        ]

    def __str__(self):
        return f"{self.worker_id} {self.month:%Y-%m} {self.stars or '-'}★"


# The dashboard's summary table lives in its own module (governance.dashboard).
from .dashboard_models import IndicatorMonth  # noqa: E402, F401

"""Models of community deliberation (议事协商, seed 003): each community's kind
(which chooses its path), councils and their members, topics with the record
of each step of their path, vote items and the ballots issued for them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from grids.masking import mask_name
from grids.querysets import ScopedQuerySet

from .choices import (
    PATH_FOR_KIND,
    PATH_STEPS,
    CommunityKind,
    CouncilKind,
    MemberSide,
    Path,
    Step,
    TopicKind,
    TopicSource,
    TopicState,
    Vote,
    VoteResult,
    VoteState,
)


class CommunityProfileQuerySet(ScopedQuerySet):
    scope_path = "community"


class CouncilQuerySet(ScopedQuerySet):
    scope_path = "region"


class CouncilMemberQuerySet(ScopedQuerySet):
    scope_path = "council__region"


class TopicQuerySet(ScopedQuerySet):
    scope_path = "region"


class TopicStepQuerySet(ScopedQuerySet):
    scope_path = "topic__region"


class VoteItemQuerySet(ScopedQuerySet):
    scope_path = "topic__region"


class BallotQuerySet(ScopedQuerySet):
    scope_path = "item__topic__region"


class CommunityProfile(models.Model):
    """What kind of place a community is (封闭式 / 开放式 / 村改居 / 农村); the kind
    chooses the path its topics follow."""

    community = models.OneToOneField(
        "grids.Region",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="deliberation_profile",
    )
    kind = models.CharField(
        _("kind of community"), max_length=24, choices=CommunityKind.choices
    )

    objects = CommunityProfileQuerySet.as_manager()

    class Meta:
        verbose_name = _("community kind")
        verbose_name_plural = _("community kinds")

    def __str__(self):
        return f"{self.community} · {self.get_kind_display()}"

    @property
    def path(self) -> str:
        return PATH_FOR_KIND[CommunityKind(self.kind)]


class Council(models.Model):
    """A council that deliberates (议事会, 五位一体, 四会, 网格议事会): of a
    community, or of a grid for a grid council. It sets its ballots' rules."""

    region = models.ForeignKey(
        "grids.Region",
        verbose_name=_("community or grid"),
        on_delete=models.PROTECT,
        related_name="councils",
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=CouncilKind.choices)
    secret_ballot = models.BooleanField(
        _("secret ballot"),
        default=False,
        help_text=_("A secret ballot keeps only the counts, never who voted what."),
    )
    quorum_percent = models.PositiveSmallIntegerField(
        _("quorum (percent of members)"),
        default=66,
        help_text=_(
            "At least this share of the members must vote for a valid count "
            "(66 for two thirds)."
        ),
    )
    majority_percent = models.PositiveSmallIntegerField(
        _("majority (percent of ballots cast)"),
        default=50,
        help_text=_("An item passes with more than this share of the ballots cast."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = CouncilQuerySet.as_manager()

    class Meta:
        verbose_name = _("council")
        verbose_name_plural = _("councils")
        ordering = ["region_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "name"], name="council_unique_name_per_region"
            ),
            models.CheckConstraint(
                condition=Q(quorum_percent__gte=1, quorum_percent__lte=100),
                name="council_quorum_range",
            ),
            models.CheckConstraint(
                condition=Q(majority_percent__gte=50, majority_percent__lt=100),
                name="council_majority_range",
            ),
        ]

    def __str__(self):
        return self.name


class CouncilMember(models.Model):
    """A seat on a council, filled from the roster (a grid worker), the party
    members, the households (a resident), or a unit's delegate by name. An
    account (``user``) lets the member cast ballots on the phone."""

    council = models.ForeignKey(
        Council,
        verbose_name=_("council"),
        on_delete=models.PROTECT,
        related_name="members",
    )
    name = models.CharField(_("name"), max_length=50)
    side = models.CharField(_("speaks for"), max_length=24, choices=MemberSide.choices)
    grid_worker = models.ForeignKey(
        "grids.GridWorker",
        verbose_name=_("grid worker"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="council_seats",
    )
    party_member = models.ForeignKey(
        "partyorg.PartyMember",
        verbose_name=_("party member"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="council_seats",
    )
    resident = models.ForeignKey(
        "grids.Resident",
        verbose_name=_("resident"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="council_seats",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("login account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="council_seats",
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = CouncilMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("council member")
        verbose_name_plural = _("council members")
        ordering = ["council_id", "side", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["council", "grid_worker"],
                condition=Q(is_active=True, grid_worker__isnull=False),
                name="councilmember_one_seat_per_worker",
            ),
            models.UniqueConstraint(
                fields=["council", "party_member"],
                condition=Q(is_active=True, party_member__isnull=False),
                name="councilmember_one_seat_per_party_member",
            ),
            models.UniqueConstraint(
                fields=["council", "resident"],
                condition=Q(is_active=True, resident__isnull=False),
                name="councilmember_one_seat_per_resident",
            ),
            models.UniqueConstraint(
                fields=["council", "user"],
                condition=Q(is_active=True, user__isnull=False),
                name="councilmember_one_seat_per_account",
            ),
        ]

    def __str__(self):
        return f"{self.name} · {self.council}"

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)


class Topic(models.Model):
    """A topic (议题): raised, screened by 五议五不议, then taken through the
    steps of its community's path, one recorded step after another."""

    region = models.ForeignKey(
        "grids.Region",
        verbose_name=_("community or grid"),
        on_delete=models.PROTECT,
        related_name="deliberation_topics",
    )
    community = models.ForeignKey(
        "grids.Region",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="community_deliberation_topics",
    )
    title = models.CharField(_("topic"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    source = models.CharField(
        _("raised by"), max_length=16, choices=TopicSource.choices
    )
    resident = models.ForeignKey(
        "grids.Resident",
        verbose_name=_("resident who raised it"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deliberation_topics",
    )
    party_org = models.ForeignKey(
        "partyorg.PartyOrg",
        verbose_name=_("party branch that raised it"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deliberation_topics",
    )
    raising_council = models.ForeignKey(
        Council,
        verbose_name=_("council that raised it"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="raised_topics",
    )
    ticket = models.OneToOneField(
        "tickets.Ticket",
        verbose_name=_("from ticket"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deliberation_topic",
    )
    council = models.ForeignKey(
        Council,
        verbose_name=_("deliberating council"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="topics",
    )
    path = models.CharField(_("path"), max_length=16, choices=Path.choices)
    state = models.CharField(
        _("state"), max_length=16, choices=TopicState.choices, default=TopicState.RAISED
    )
    kind = models.CharField(
        _("screened as"), max_length=24, choices=TopicKind.choices, blank=True
    )
    screening_note = models.TextField(_("screening note"), blank=True)
    screened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("screened by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    screened_at = models.DateTimeField(_("screened at"), null=True, blank=True)
    # How many steps of the path are recorded: the next one is PATH_STEPS[n].
    steps_done = models.PositiveSmallIntegerField(_("steps recorded"), default=0)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    raised_at = models.DateTimeField(_("raised at"))
    concluded_at = models.DateTimeField(_("concluded at"), null=True, blank=True)

    objects = TopicQuerySet.as_manager()

    class Meta:
        verbose_name = _("deliberation topic")
        verbose_name_plural = _("deliberation topics")
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["community", "state"], name="topic_community_state")
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="refused") | ~Q(kind=""),
                name="topic_refused_has_rule",
            ),
            models.CheckConstraint(
                condition=~Q(source="ticket") | Q(ticket__isnull=False),
                name="topic_from_ticket_has_ticket",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def steps(self) -> tuple[str, ...]:
        return PATH_STEPS[Path(self.path)]

    @property
    def next_step(self) -> str | None:
        """The step to record next, or None when none may be recorded."""
        if self.state != TopicState.IN_PROGRESS or self.steps_done >= len(self.steps):
            return None
        return self.steps[self.steps_done]

    @property
    def next_step_label(self) -> str:
        step = self.next_step
        return Step(step).label if step else ""


class TopicStep(models.Model):
    """The record of one step of a topic: who owned it, who took part, the
    minutes, the dates, an optional photo of the signed record."""

    topic = models.ForeignKey(
        Topic, verbose_name=_("topic"), on_delete=models.PROTECT, related_name="records"
    )
    step = models.CharField(_("step"), max_length=24, choices=Step.choices)
    position = models.PositiveSmallIntegerField(_("position"))
    owner = models.CharField(_("owner"), max_length=100)
    participants = models.TextField(_("participants"))
    minutes = models.TextField(_("minutes"))
    started_on = models.DateField(_("started on"))
    completed_on = models.DateField(_("completed on"))
    attachment = models.ImageField(
        _("attachment (photo)"), upload_to="deliberation/%Y/%m/", blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = TopicStepQuerySet.as_manager()

    class Meta:
        verbose_name = _("step record")
        verbose_name_plural = _("step records")
        ordering = ["topic_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["topic", "position"], name="topicstep_one_record_per_position"
            ),
            models.UniqueConstraint(
                fields=["topic", "step"], name="topicstep_one_record_per_step"
            ),
            models.CheckConstraint(
                condition=Q(completed_on__gte=models.F("started_on")),
                name="topicstep_completes_after_start",
            ),
        ]

    def __str__(self):
        return f"{self.topic} · {self.get_step_display()}"

    @property
    def masked_owner(self) -> str:
        return mask_name(self.owner)


class VoteItem(models.Model):
    """A matter put to the vote (表决事项, 四步走): ballots are issued to every
    active member of the council when it opens; counting closes it."""

    topic = models.ForeignKey(
        Topic,
        verbose_name=_("topic"),
        on_delete=models.PROTECT,
        related_name="vote_items",
    )
    council = models.ForeignKey(
        Council,
        verbose_name=_("council"),
        on_delete=models.PROTECT,
        related_name="vote_items",
    )
    text = models.CharField(_("matter put to the vote"), max_length=300)
    state = models.CharField(
        _("state"), max_length=8, choices=VoteState.choices, default=VoteState.OPEN
    )
    secret = models.BooleanField(_("secret ballot"), default=False)
    # The council's rules and membership when the item opened (a later change of
    # the council does not change a vote under way).
    eligible_count = models.PositiveIntegerField(_("ballots issued"))
    quorum_percent = models.PositiveSmallIntegerField(_("quorum (%)"))
    majority_percent = models.PositiveSmallIntegerField(_("majority (%)"))
    votes_for = models.PositiveIntegerField(_("for"), default=0)
    votes_against = models.PositiveIntegerField(_("against"), default=0)
    votes_abstain = models.PositiveIntegerField(_("abstain"), default=0)
    result = models.CharField(
        pgettext_lazy("deliberation", "result"),
        max_length=12,
        choices=VoteResult.choices,
        blank=True,
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(pgettext_lazy("deliberation", "opened at"))
    counted_at = models.DateTimeField(_("counted at"), null=True, blank=True)

    objects = VoteItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("vote item")
        verbose_name_plural = _("vote items")
        ordering = ["topic_id", "opened_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="counted") | ~Q(result=""),
                name="voteitem_counted_has_result",
            ),
            models.CheckConstraint(
                condition=Q(
                    eligible_count__gte=models.F("votes_for")
                    + models.F("votes_against")
                    + models.F("votes_abstain")
                ),
                name="voteitem_no_more_votes_than_ballots",
            ),
        ]

    def __str__(self):
        return self.text

    @property
    def votes_cast(self) -> int:
        return self.votes_for + self.votes_against + self.votes_abstain


class Ballot(models.Model):
    """The ballot issued to one member for one item: cast once. In a secret vote
    the choice is not kept here, only added to the item's counts."""

    item = models.ForeignKey(
        VoteItem,
        verbose_name=_("vote item"),
        on_delete=models.PROTECT,
        related_name="ballots",
    )
    member = models.ForeignKey(
        CouncilMember,
        verbose_name=_("council member"),
        on_delete=models.PROTECT,
        related_name="ballots",
    )
    vote = models.CharField(_("vote"), max_length=8, choices=Vote.choices, blank=True)
    cast_at = models.DateTimeField(_("cast at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = BallotQuerySet.as_manager()

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        ordering = ["item_id", "member_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "member"], name="ballot_one_per_member_and_item"
            ),
        ]

    def __str__(self):
        return f"{self.item} · {self.member.masked_name}"

    @property
    def is_cast(self) -> bool:
        return self.cast_at is not None


__all__ = [
    "Ballot",
    "CommunityProfile",
    "Council",
    "CouncilMember",
    "Topic",
    "TopicStep",
    "VoteItem",
]

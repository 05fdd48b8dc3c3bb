"""吹哨报到 ("网格吹哨、部门报到", seeds 002, 004): a grid worker or community
staff "blows the whistle" on a matter in their area, summoning functional
departments (tickets.Department) and in-service party members (双报到) to the
place; each summons (WhistleCall) records its arrival, late arrival or absence."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids.querysets import ScopedQuerySet

from .choices import CallStatus


class WhistleQuerySet(ScopedQuerySet):
    scope_path = "region"


class WhistleCallQuerySet(ScopedQuerySet):
    scope_path = "whistle__region"


class Whistle(models.Model):
    """One whistle (吹哨): where, what, and by when the called must be on site."""

    region = models.ForeignKey(
        "grids.Region",
        verbose_name=_("place (grid or community)"),
        on_delete=models.PROTECT,
        related_name="whistles",
    )
    # The community of ``region``, kept for the per-community reads.
    community = models.ForeignKey(
        "grids.Region",
        verbose_name=_("community"),
        on_delete=models.PROTECT,
        related_name="community_whistles",
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="whistles",
    )
    # The deliberation topic the whistle was blown from (PROTECT: a topic is a
    # public record and is never deleted while something points at it).
    topic = models.ForeignKey(
        "partyorg.Topic",
        verbose_name=_("topic"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="whistles",
    )
    title = models.CharField(_("matter"), max_length=200)
    meeting_point = models.CharField(_("meeting point"), max_length=200)
    note = models.TextField(_("note"), blank=True)
    blown_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("blown by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    blown_at = models.DateTimeField(_("blown at"))
    report_by = models.DateTimeField(_("report on site by"))

    objects = WhistleQuerySet.as_manager()

    class Meta:
        verbose_name = _("whistle")
        verbose_name_plural = _("whistles (吹哨报到)")
        ordering = ["-blown_at", "-id"]
        indexes = [models.Index(fields=["blown_at"], name="whistle_blown_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(report_by__gt=models.F("blown_at")),
                name="whistle_report_after_blow",
            )
        ]

    def __str__(self):
        return self.title


class WhistleCall(models.Model):
    """One summons of a whistle: a department or an in-service party member, and
    the outcome (on time, late, absent)."""

    whistle = models.ForeignKey(
        Whistle,
        verbose_name=_("whistle"),
        on_delete=models.PROTECT,
        related_name="calls",
    )
    department = models.ForeignKey(
        "tickets.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="whistle_calls",
    )
    member = models.ForeignKey(
        "partyorg.PartyMember",
        verbose_name=_("in-service party member"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="whistle_calls",
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=CallStatus.choices,
        default=CallStatus.PENDING,
    )
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    arrival_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("arrival recorded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    absent_marked_at = models.DateTimeField(
        _("marked absent at"), null=True, blank=True
    )

    objects = WhistleCallQuerySet.as_manager()

    class Meta:
        verbose_name = _("whistle call")
        verbose_name_plural = _("whistle calls")
        ordering = ["whistle", "id"]
        indexes = [
            models.Index(fields=["status"], name="whistlecall_status_idx"),
        ]
        constraints = [
            # Exactly one of department and member.
            models.CheckConstraint(
                condition=Q(department__isnull=False, member__isnull=True)
                | Q(department__isnull=True, member__isnull=False),
                name="whistlecall_department_xor_member",
            ),
            models.UniqueConstraint(
                fields=["whistle", "department"],
                condition=Q(department__isnull=False),
                name="whistlecall_unique_department",
            ),
            models.UniqueConstraint(
                fields=["whistle", "member"],
                condition=Q(member__isnull=False),
                name="whistlecall_unique_member",
            ),
            # Arrived rows carry the time; pending and absent ones do not.
            models.CheckConstraint(
                condition=Q(status__in=["on_time", "late"], arrived_at__isnull=False)
                | (~Q(status__in=["on_time", "late"]) & Q(arrived_at__isnull=True)),
                name="whistlecall_arrival_time",
            ),
        ]

    def __str__(self):
        return f"{self.whistle} · {self.department or self.member}"

    @property
    def called_name(self) -> str:
        """The department's name, or the member's masked name."""
        if self.department_id:
            return self.department.name
        return self.member.masked_name

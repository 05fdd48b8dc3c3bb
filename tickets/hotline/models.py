"""Models of the 12345 hotline integration (imported at the end of
``tickets.models``, so they belong to the tickets app)."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids.fields import EncryptedCharField

from .choices import DeliveryState


class HotlinePlatform(models.Model):
    """A 12345 platform (市/区 12345 政务服务便民热线) that pushes tickets to us
    and takes our stage changes back. Its ``region`` is its scope: it creates
    and reads tickets there only, through its own ``account``."""

    name = models.CharField(_("name"), max_length=100)
    # Sent by the platform in ``X-Hotline-Platform``.
    code = models.SlugField(_("code"), max_length=40, unique=True)
    # The HMAC key, both directions. Encrypted at rest; shown once, when made.
    secret = EncryptedCharField(_("secret"), max_length=200, editable=False)
    callback_url = models.URLField(_("callback URL"), max_length=500, blank=True)
    region = models.ForeignKey(
        "grids.Region",
        verbose_name=_("area served"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Where a push whose area or address is not mapped lands: a street's triage
    # queue (by default the platform's own region).
    fallback_region = models.ForeignKey(
        "grids.Region",
        verbose_name=_("unmapped tickets go to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The account the platform acts as (no password: only the signature).
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="hotline_platform",
        editable=False,
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("12345 platform")
        verbose_name_plural = _("12345 platforms")

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def triage_region(self):
        return self.fallback_region or self.region


class HotlineCategoryMapping(models.Model):
    """The platform's category code → our category (kept by staff)."""

    platform = models.ForeignKey(
        HotlinePlatform,
        verbose_name=_("12345 platform"),
        on_delete=models.CASCADE,
        related_name="category_mappings",
    )
    code = models.CharField(_("platform category code"), max_length=40)
    category = models.ForeignKey(
        "tickets.Category",
        verbose_name=_("category"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("12345 category mapping")
        verbose_name_plural = _("12345 category mappings")
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "code"], name="hotline_category_code_once"
            )
        ]

    def __str__(self):
        return f"{self.code} → {self.category}"


class HotlineAreaMapping(models.Model):
    """The platform's area code, or a prefix of the address, → a Region (kept by
    staff). An area code wins over an address prefix; the longest prefix wins."""

    platform = models.ForeignKey(
        HotlinePlatform,
        verbose_name=_("12345 platform"),
        on_delete=models.CASCADE,
        related_name="area_mappings",
    )
    area_code = models.CharField(
        _("platform area code"), max_length=40, blank=True, default=""
    )
    address_prefix = models.CharField(
        _("address prefix"), max_length=100, blank=True, default=""
    )
    region = models.ForeignKey(
        "grids.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("12345 area mapping")
        verbose_name_plural = _("12345 area mappings")
        constraints = [
            models.CheckConstraint(
                condition=~Q(area_code="", address_prefix=""),
                name="hotline_area_mapping_has_key",
            ),
            models.UniqueConstraint(
                fields=["platform", "area_code"],
                condition=~Q(area_code=""),
                name="hotline_area_code_once",
            ),
            models.UniqueConstraint(
                fields=["platform", "address_prefix"],
                condition=~Q(address_prefix=""),
                name="hotline_address_prefix_once",
            ),
        ]

    def __str__(self):
        return f"{self.area_code or self.address_prefix} → {self.region}"


class HotlineInbound(models.Model):
    """A push received: the platform's number, what it sent (as a digest, for
    telling a replay from a clash) and the answer given, returned again to a
    replay. The unique (platform, number) makes concurrent pushes one ticket."""

    platform = models.ForeignKey(
        HotlinePlatform,
        verbose_name=_("12345 platform"),
        on_delete=models.PROTECT,
        related_name="inbound",
    )
    number = models.CharField(_("12345 ticket number"), max_length=40)
    ticket = models.OneToOneField(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.PROTECT,
        related_name="hotline_inbound",
        null=True,
        blank=True,
    )
    content_digest = models.CharField(_("content digest"), max_length=64)
    # Unmapped category / area: the ticket waits in the street's triage queue.
    flags = models.JSONField(_("triage flags"), default=list, blank=True)
    category_code = models.CharField(_("platform category code"), max_length=40)
    area_code = models.CharField(_("platform area code"), max_length=40, blank=True)
    platform_deadline = models.DateTimeField(
        _("platform deadline"), null=True, blank=True
    )
    response = models.JSONField(_("response"), default=dict, editable=False)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("12345 push received")
        verbose_name_plural = _("12345 pushes received")
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "number"], name="hotline_number_once_per_platform"
            )
        ]
        # (number, id): a push looks up its number's earlier pushes in id order
        # (services._received_before); on (number) alone the planner walked the
        # primary key for ORDER BY id LIMIT 2 and filtered every row (11 ms at
        # 16,000 pushes, growing with the table).
        indexes = [
            models.Index(fields=["number", "id"], name="hotline_inbound_number_id")
        ]

    def __str__(self):
        return self.number


class HotlineDelivery(models.Model):
    """One callback to the platform (the outbox): written in the transaction of
    the ticket's change, sent after commit by a worker, retried with backoff,
    dead after the last attempt. ``id`` is what the platform dedupes on."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    platform = models.ForeignKey(
        HotlinePlatform,
        verbose_name=_("12345 platform"),
        on_delete=models.PROTECT,
        related_name="deliveries",
    )
    ticket = models.ForeignKey(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.PROTECT,
        related_name="hotline_deliveries",
    )
    # One delivery per change: the event it reports.
    event = models.OneToOneField(
        "tickets.TicketEvent",
        verbose_name=_("event"),
        on_delete=models.PROTECT,
        related_name="hotline_delivery",
    )
    payload = models.JSONField(_("payload"), default=dict)
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=DeliveryState.choices,
        default=DeliveryState.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    # A worker's claim lapses at this time (a dead worker's delivery is retried).
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Last announced to the broker by the sweep (not announced again too soon).
    announced_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_status = models.PositiveSmallIntegerField(
        _("last HTTP status"), null=True, blank=True
    )
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("12345 callback")
        verbose_name_plural = _("12345 callbacks")
        indexes = [
            # The sweep's query: the waiting ones by due time.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=["pending", "retry", "sending"]),
                name="hotline_delivery_due",
            ),
        ]

    def __str__(self):
        return str(self.id)

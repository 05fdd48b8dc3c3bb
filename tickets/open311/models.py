"""Open311 rows: the applications allowed to post (``api_key``) and the tickets
that came in through Open311, which are the only ones the public reads back.

Defined here and imported by ``tickets.models`` (app label ``tickets``)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from grids.models import Region


class Open311Client(models.Model):
    """A civic application allowed to post service requests (Open311
    ``api_key``). Its key is shown once when issued and stored as a SHA-256
    digest; its area bounds the grids its requests may land in."""

    name = models.CharField(_("application"), max_length=100)
    region = models.ForeignKey(
        Region,
        verbose_name=_("area"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Requests posted with this key land in grids of this area."),
    )
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    # The key's first characters, so staff can tell keys apart without the key.
    key_prefix = models.CharField(_("key starts with"), max_length=8, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("issued at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Open311 client key")
        verbose_name_plural = _("Open311 client keys")
        ordering = ["name", "pk"]

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"


class Open311Request(models.Model):
    """A ticket posted through Open311. Its public fields (never the reporter's
    data) are what ``GET requests`` returns; the token answers ``GET tokens``."""

    ticket = models.OneToOneField(
        "tickets.Ticket",
        verbose_name=_("ticket"),
        on_delete=models.CASCADE,
        related_name="open311",
    )
    client = models.ForeignKey(
        Open311Client,
        verbose_name=_("Open311 client key"),
        on_delete=models.PROTECT,
        related_name="requests",
    )
    token = models.UUIDField(_("token"), default=uuid.uuid4, unique=True)
    # The ticket's receipt time, copied so that the public window is one index.
    requested_at = models.DateTimeField(_("requested at"), db_index=True)

    class Meta:
        verbose_name = _("Open311 request")
        verbose_name_plural = _("Open311 requests")
        ordering = ["-requested_at", "-pk"]

    def __str__(self):
        return str(self.token)

"""Service sites (党群服务中心, 网格驿站 / 红色驿站, 新时代文明实践站) with their point,
for the 15-minute service circle (seed 002: "15分钟服务圈")."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids.querysets import ScopedQuerySet


class SiteKind(models.TextChoices):
    # 党群服务中心: the community's party-and-masses service centre.
    PARTY_MASS_CENTRE = "party_mass_centre", _("Party-masses service centre")
    # 网格驿站 / 红色驿站: a small station inside a grid.
    GRID_STATION = "grid_station", _("Grid station / red station")
    # 新时代文明实践站: a civilisation-practice station of the new era.
    CIVILISATION_STATION = "civilisation_station", _("Civilisation practice station")


class ServiceSiteQuerySet(ScopedQuerySet):
    scope_path = "region"

    def active(self):
        return self.filter(is_active=True)


class ServiceSite(models.Model):
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=24, choices=SiteKind.choices)
    region = models.ForeignKey(
        "grids.Region",
        verbose_name=_("region served"),
        on_delete=models.PROTECT,
        related_name="service_sites",
    )
    address = models.CharField(_("address"), max_length=200)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6)
    opening_hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    services = models.TextField(_("services offered"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = ServiceSiteQuerySet.as_manager()

    class Meta:
        verbose_name = _("service site")
        verbose_name_plural = _("service sites")
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["latitude", "longitude"], name="site_point_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90)
                & Q(longitude__gte=-180, longitude__lte=180),
                name="site_point_range",
            ),
            models.UniqueConstraint(
                fields=["region", "name"], name="site_unique_name_per_region"
            ),
        ]

    def __str__(self):
        return self.name

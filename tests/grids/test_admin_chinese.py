"""The grids admin in zh-hans: no raw ``null`` in an empty boundary, no English
codes where a name belongs, Django's own untranslated admin strings translated."""

import re

import pytest
from django.urls import reverse

from grids.models import Region
from tests.grids.factories import ResidentTagFactory

pytestmark = pytest.mark.django_db
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def _boundary_box(page: str) -> str:
    match = re.search(r'<textarea name="boundary"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, "no boundary field"
    return match.group(1).strip()


def _region_form(region, boundary):
    return {
        "parent": region.parent_id,
        "name": region.name,
        "code": region.code or "",
        "households_count": "",
        "population_count": "",
        "latitude": "",
        "longitude": "",
        "boundary": boundary,
        "is_active": "on",
        "assignments-TOTAL_FORMS": "0",
        "assignments-INITIAL_FORMS": "0",
        "assignments-MIN_NUM_FORMS": "0",
        "assignments-MAX_NUM_FORMS": "1000",
    }


def test_an_empty_boundary_is_an_empty_field_and_saves_as_null(
    client, tree, street_staff
):
    grid = tree["grids"][0]
    client.force_login(street_staff)
    change = reverse("admin:grids_region_change", args=[grid.pk])
    assert _boundary_box(client.get(change, **ZH).content.decode()) == ""
    assert (
        _boundary_box(
            client.get(reverse("admin:grids_region_add"), **ZH).content.decode()
        )
        == ""
    )
    square = (
        '{"type": "Polygon", "coordinates": [[[117, 36], [117.1, 36], '
        "[117.1, 36.1], [117, 36]]]}"
    )
    assert client.post(change, _region_form(grid, square)).status_code == 302
    grid.refresh_from_db()
    assert grid.boundary["type"] == "Polygon"
    assert "&quot;Polygon&quot;" in _boundary_box(
        client.get(change, **ZH).content.decode()
    )
    assert client.post(change, _region_form(grid, "")).status_code == 302
    assert Region.objects.filter(pk=grid.pk, boundary__isnull=True).exists()


def test_tag_form_offers_roles_by_their_chinese_names(client, street_staff):
    tag = ResidentTagFactory(code="elderly_alone", name="独居老人")
    client.force_login(street_staff)
    page = client.get(
        reverse("admin:grids_residenttag_change", args=[tag.pk]), **ZH
    ).content.decode()
    assert "社区工作人员" in page and "网格员" in page
    assert '<textarea name="visible_to_roles"' not in page


def test_django_admin_strings_are_chinese_on_grids_pages(client, tree, street_staff):
    client.force_login(street_staff)
    index = client.get(reverse("admin:index"), **ZH).content.decode()
    assert "Model name" not in index and "Add link" not in index
    add_user = client.get(reverse("admin:grids_user_add"), **ZH).content.decode()
    assert "After you’ve created a user" not in add_user
    invalid = client.post(
        reverse("admin:grids_residenttag_add"), {"name": "", "code": ""}, **ZH
    ).content.decode()
    assert "<title>Error:" not in invalid and "错误" in invalid

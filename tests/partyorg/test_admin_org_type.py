"""An empty or unknown organisation type is a form error on the admin page and a
clear refusal in the service, never a 500 (issue 9, finding 7)."""

import pytest
from django.urls import reverse

from grids.errors import DomainError
from partyorg import services
from partyorg.models import PartyOrg

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("org_type", ["", "no-such-type", "a\x00b", "x" * 10_000])
def test_the_admin_form_refuses_an_empty_or_unknown_type(
    client, street_staff, tree, org_type
):
    client.force_login(street_staff)
    response = client.post(
        reverse("admin:partyorg_partyorg_add"),
        {
            "name": "街道党工委",
            "org_type": org_type,
            "region": tree["street"].pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["org_type"]
    assert not PartyOrg.objects.exists()


def test_the_admin_form_takes_a_known_type(client, street_staff, tree):
    client.force_login(street_staff)
    response = client.post(
        reverse("admin:partyorg_partyorg_add"),
        {
            "name": "街道党工委",
            "org_type": "working_committee",
            "region": tree["street"].pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert PartyOrg.objects.get().name == "街道党工委"


@pytest.mark.parametrize("org_type", ["", "no-such-type"])
def test_the_service_refuses_an_unknown_type(street_staff, tree, org_type):
    with pytest.raises(DomainError) as refused:
        services.party_org_create(
            actor=street_staff,
            name="某党组织",
            org_type=org_type,
            region=tree["street"],
        )
    assert refused.value.code == "illegal_placement"
    assert not PartyOrg.objects.exists()

"""Factories of the partyorg app. Organisations are saved through the tree
manager (model save) so their MPTT columns are right."""

import datetime as dt
import io

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from grids.choices import RegionLevel, UserRole
from partyorg.choices import OrgType, WishState
from partyorg.models import PartyMember, PartyOrg, Registration, ServiceRecord, Wish
from tests.grids.factories import RegionFactory, UserFactory


class PartyOrgFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartyOrg

    name = factory.Sequence(lambda n: f"党组织{n}")
    org_type = OrgType.WORKING_COMMITTEE
    region = factory.SubFactory(RegionFactory, level=RegionLevel.STREET)
    parent = None


class PartyMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartyMember

    name = factory.Sequence(lambda n: f"党员{n}")
    phone = factory.Sequence(lambda n: f"137{n:08d}")
    organisation = factory.SubFactory(PartyOrgFactory)
    is_active = True
    is_in_service = False
    employer = ""


class RegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Registration

    member = factory.SubFactory(
        PartyMemberFactory, is_in_service=True, employer="市财政局", organisation=None
    )
    community = factory.SubFactory(RegionFactory, level=RegionLevel.COMMUNITY)
    registered_on = factory.LazyFunction(
        lambda: timezone.localdate() - dt.timedelta(days=400)
    )


class ServiceRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceRecord

    registration = factory.SubFactory(RegistrationFactory)
    task = "政策宣传"
    hours = 2
    served_on = factory.LazyFunction(timezone.localdate)
    recorded_by = factory.SubFactory(UserFactory, role=UserRole.COMMUNITY_STAFF)


class WishFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Wish

    region = factory.SubFactory(RegionFactory, level=RegionLevel.GRID)
    community = factory.LazyAttribute(lambda o: o.region.parent)
    title = factory.Sequence(lambda n: f"微心愿{n}")
    beneficiary = "独居老人"
    state = WishState.POSTED
    posted_by = factory.SubFactory(UserFactory, role=UserRole.GRID_WORKER)
    posted_at = factory.LazyFunction(timezone.now)


def make_party_tree(tree) -> dict:
    """A working committee on the street, a community committee per community and
    a grid branch on every grid of the first community only."""
    wc = PartyOrgFactory(
        name=f"{tree['street'].name}党工委",
        org_type=OrgType.WORKING_COMMITTEE,
        region=tree["street"],
    )
    committees = [
        PartyOrgFactory(
            name=f"{c.name}党委",
            org_type=OrgType.COMMUNITY_COMMITTEE,
            region=c,
            parent=wc,
        )
        for c in tree["communities"]
    ]
    branches = [
        PartyOrgFactory(
            name=f"{g.name}党支部",
            org_type=OrgType.GRID_BRANCH,
            region=g,
            parent=committees[0],
        )
        for g in tree["grids"][:2]
    ]
    return {"working_committee": wc, "committees": committees, "branches": branches}


def png_upload(name: str = "photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")

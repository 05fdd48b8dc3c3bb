import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from grids import services
from grids.choices import PatrolKind
from grids.errors import Conflict, DomainError, NotAllowed, OutOfScope
from grids.models import Patrol, Resident
from tests.grids.factories import HouseholdFactory, ResidentTagFactory, next_id_number


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (8, 8), "red")
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (36.0, 40.0, 0.0), 3: "E", 4: (117.0, 4.0, 0.0)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_resident_create_derives_birth_date_and_gender(tree, community_staff):
    household = services.household_create(
        actor=community_staff, region=tree["grids"][0], address="幸福路1号"
    )
    resident = services.resident_create(
        actor=community_staff,
        household=household,
        name="张三",
        id_number="11010519491231002x",
        phone="138 1234 5678",
    )
    assert resident.id_number == "11010519491231002X"
    assert resident.birth_date == dt.date(1949, 12, 31)
    assert resident.gender == "female"
    assert resident.phone == "13812345678"
    assert resident.masked_phone == "138****5678"


def test_duplicate_id_number_is_refused(tree, community_staff):
    household = HouseholdFactory(region=tree["grids"][0])
    id_number = next_id_number()
    services.resident_create(
        actor=community_staff, household=household, name="甲", id_number=id_number
    )
    with pytest.raises(Conflict):
        services.resident_create(
            actor=community_staff, household=household, name="乙", id_number=id_number
        )
    assert Resident.objects.count() == 1


def test_bad_id_number_writes_nothing(tree, community_staff):
    household = HouseholdFactory(region=tree["grids"][0])
    with pytest.raises(DomainError, match="校验位"):
        services.resident_create(
            actor=community_staff,
            household=household,
            name="甲",
            id_number="110105194912310021",
        )
    assert not Resident.objects.exists()


def test_household_must_be_in_a_grid_and_unique_by_address(tree, community_staff):
    with pytest.raises(DomainError):
        services.household_create(
            actor=community_staff, region=tree["communities"][0], address="社区直属1号"
        )
    services.household_create(
        actor=community_staff, region=tree["grids"][0], address="幸福路1号"
    )
    with pytest.raises(Conflict):
        services.household_create(
            actor=community_staff, region=tree["grids"][0], address="幸福路1号"
        )


def test_tags_a_user_cannot_see_are_kept_when_they_edit(
    tree, community_staff, grid_worker
):
    hidden = ResidentTagFactory(
        code="serious_illness", visible_to_roles=["community_staff"]
    )
    open_tag = ResidentTagFactory(code="elderly_alone")
    household = HouseholdFactory(region=tree["grids"][0])
    resident = services.resident_create(
        actor=community_staff,
        household=household,
        name="甲",
        id_number=next_id_number(),
        tags=[hidden, open_tag],
    )
    services.resident_update(actor=grid_worker, resident_id=resident.pk, tags=[])
    assert set(resident.tags.all()) == {hidden}


def test_patrol_photo_loses_its_exif_and_keeps_its_location(
    tree, grid_worker, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    household = HouseholdFactory(region=tree["grids"][0])
    content = _jpeg_with_gps()
    patrol = services.patrol_record(
        actor=grid_worker,
        region=tree["grids"][0],
        kind=PatrolKind.VISIT,
        notes="入户走访，老人身体良好",
        household=household,
        photo=SimpleUploadedFile("visit.jpg", content, content_type="image/jpeg"),
    )
    with Image.open(patrol.photo.path) as stored:
        assert not stored.getexif()  # re-encoded: no EXIF, no GPS in the file
    assert patrol.gps_latitude is not None and patrol.gps_longitude is not None


def test_patrol_renamed_text_file_is_refused(tree, grid_worker):
    fake = SimpleUploadedFile(
        "photo.jpg", b"this is not an image at all", content_type="image/jpeg"
    )
    with pytest.raises(DomainError) as exc:
        services.patrol_record(
            actor=grid_worker,
            region=tree["grids"][0],
            kind=PatrolKind.PATROL,
            notes="x",
            photo=fake,
        )
    assert exc.value.code == "photo_type"
    assert not Patrol.objects.exists()


def test_patrol_outside_own_grid_or_in_future_or_by_supervisor_is_refused(
    tree, grid_worker, supervisor
):
    with pytest.raises(OutOfScope):
        services.patrol_record(
            actor=grid_worker,
            region=tree["grids"][1],
            kind=PatrolKind.PATROL,
            notes="x",
        )
    with pytest.raises(DomainError):
        services.patrol_record(
            actor=grid_worker,
            region=tree["grids"][0],
            kind=PatrolKind.PATROL,
            notes="x",
            occurred_at=timezone.now() + dt.timedelta(days=1),
        )
    with pytest.raises(NotAllowed):
        services.patrol_record(
            actor=supervisor, region=tree["grids"][0], kind=PatrolKind.PATROL, notes="x"
        )
    assert not Patrol.objects.exists()


def test_photo_too_large_is_refused(settings):
    from grids.uploads import validate_image_upload

    settings.UPLOAD_MAX_IMAGE_BYTES = 100
    big = SimpleUploadedFile(
        "big.jpg", _jpeg_with_gps() + b"\0" * 200, content_type="image/jpeg"
    )
    with pytest.raises(DomainError) as exc:
        validate_image_upload(big)
    assert exc.value.code == "photo_too_large"


def test_region_counts_refresh_counts_whole_subtrees_and_is_idempotent(
    tree, django_assert_max_num_queries
):
    from grids.models import Region
    from tests.grids.factories import ResidentFactory

    for grid in tree["grids"][:3]:
        ResidentFactory.create_batch(2, household=HouseholdFactory(region=grid))
    # savepoint and release, one UPDATE of own counts, one read of the depth, one
    # UPDATE per level above the leaves (district, street, community): 7, however
    # many rows
    with django_assert_max_num_queries(7):
        services.region_counts_refresh()
    services.region_counts_refresh()
    street = Region.objects.get(pk=tree["street"].pk)
    community_2 = Region.objects.get(pk=tree["communities"][1].pk)
    assert (street.households_count, street.population_count) == (3, 6)
    assert (community_2.households_count, community_2.population_count) == (1, 2)
    assert Region.objects.get(pk=tree["grids"][3].pk).households_count == 0

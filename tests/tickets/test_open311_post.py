"""Open311 ``POST requests``: a resident's self-report through a client key,
field by field in JSON and XML, and every refusal in the spec's error format
with nothing written."""

from xml.etree import ElementTree

import pytest

from grids.choices import UserRole
from grids.errors import NotAllowed, OutOfScope
from tests.grids.factories import UserFactory
from tickets.choices import Action, Source, Stage
from tickets.models import Open311Client, Open311Request, Ticket
from tickets.open311 import services as open311_services

pytestmark = pytest.mark.django_db


def _error(response):
    if response["Content-Type"].startswith("text/xml"):
        root = ElementTree.fromstring(response.content)
        assert root.tag == "errors"
        (error,) = root.findall("error")
        assert [child.tag for child in error] == ["code", "description"]
        return int(error.findtext("code")), error.findtext("description")
    (error,) = response.json()
    assert set(error) == {"code", "description"}
    return error["code"], error["description"]


def test_post_json_creates_a_self_report_in_triage(open311_post, open311_world):
    response = open311_post()
    assert response.status_code == 201
    assert response["Content-Type"] == "application/json; charset=utf-8"
    (body,) = response.json()
    assert set(body) == {"service_request_id", "token", "service_notice", "account_id"}
    ticket = Ticket.objects.get(number=body["service_request_id"])
    assert ticket.source == Source.SELF_REPORT
    assert ticket.stage == Stage.RECEIVED
    assert ticket.region == open311_world["tree"]["grids"][0]  # the nearest grid
    assert ticket.category == open311_world["category"]
    assert ticket.holder_region == open311_world["tree"]["street"]
    assert ticket.reporter_phone == "13800001111"
    assert ticket.address == "北门"
    assert float(ticket.latitude) == pytest.approx(39.9001)
    event = ticket.events.get()
    assert event.action == Action.CREATE and event.data == {"channel": "open311"}
    row = Open311Request.objects.get(ticket=ticket)
    assert str(row.token) == body["token"]
    assert row.client == open311_world["client"]
    assert row.requested_at == ticket.received_at


def test_post_xml_answers_in_xml(open311_post):
    response = open311_post("xml")
    assert response.status_code == 201
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ElementTree.fromstring(response.content)
    assert root.tag == "service_requests"
    (request,) = root.findall("request")
    assert [c.tag for c in request] == [
        "service_request_id",
        "token",
        "service_notice",
        "account_id",
    ]
    assert Ticket.objects.filter(number=request.findtext("service_request_id")).exists()


def test_post_by_address_id_lands_in_that_grid(open311_post, open311_world):
    grid = open311_world["tree"]["grids"][3]
    response = open311_post(lat=None, long=None, address_id=grid.code)
    assert response.status_code == 201
    assert Ticket.objects.get().region == grid


def test_post_nearest_grid_by_location(open311_post, open311_world):
    response = open311_post(lat="39.9299", long="116.4001")
    assert response.status_code == 201
    assert Ticket.objects.get().region == open311_world["tree"]["grids"][3]


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"api_key": None}, 403),
        ({"api_key": "not-a-key"}, 403),
        ({"api_key": "x" * 5000}, 403),
        ({"service_code": None}, 400),
        ({"service_code": "no-such-service"}, 404),
        ({"description": ""}, 400),
        ({"description": "长" * 5000}, 400),
        ({"phone": ""}, 400),
        ({"phone": "12345"}, 400),
        ({"lat": None, "long": None}, 400),
        ({"lat": "abc"}, 400),
        ({"lat": "nan"}, 400),
        ({"lat": "1e999"}, 400),
        ({"lat": "51.5", "long": "-0.12"}, 400),  # outside China
        ({"lat": None, "long": None, "address_id": "999999999999999999"}, 400),
        ({"jurisdiction_id": "elsewhere"}, 404),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_refusals_write_nothing(open311_post, overrides, status, fmt):
    response = open311_post(fmt, **overrides)
    code, description = _error(response)
    assert response.status_code == status == code
    assert description
    assert not Ticket.objects.exists()
    assert not Open311Request.objects.exists()


def test_post_revoked_key_is_refused(open311_post, open311_world, street_staff):
    open311_services.open311_client_revoke(
        actor=street_staff, client_id=open311_world["client"].pk
    )
    assert open311_post().status_code == 403
    assert not Ticket.objects.exists()


def test_post_address_id_of_another_area_is_refused(open311_post, other_tree):
    from grids.models import Region

    outside = other_tree["grids"][0]
    Region.objects.filter(pk=outside.pk).update(code="120101001001001")
    response = open311_post(lat=None, long=None, address_id="120101001001001")
    assert response.status_code == 400
    assert not Ticket.objects.exists()


def test_post_same_matter_twice_is_a_conflict(open311_post):
    assert open311_post().status_code == 201
    again = open311_post()
    assert again.status_code == 409
    assert _error(again)[0] == 409
    assert Ticket.objects.count() == 1 == Open311Request.objects.count()


def test_post_rate_limited_per_address(open311_post, settings):
    settings.TICKETS_SELF_REPORT_PER_IP = 2
    assert open311_post(description="一").status_code == 201
    assert open311_post(description="二", phone="13800002222").status_code == 201
    refused = open311_post(description="三", phone="13800003333")
    assert refused.status_code == 429
    assert _error(refused)[0] == 429
    assert Ticket.objects.count() == 2


def test_throttle_answers_429_in_the_spec_format(client, settings, open311_world):
    from django.core.cache import cache

    cache.clear()
    settings.OPEN311_THROTTLE_RATE = "2/min"
    assert client.get("/open311/v2/services.json").status_code == 200
    assert client.get("/open311/v2/services.xml").status_code == 200
    refused = client.get("/open311/v2/services.xml")
    assert refused.status_code == 429
    assert _error(refused)[0] == 429
    assert int(refused["Retry-After"]) > 0


def test_post_json_body_is_accepted(client, open311_world):
    from django.core.cache import cache

    cache.clear()
    response = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": open311_world["key"],
            "service_code": "street-vending",
            "description": "路灯不亮",
            "phone": "13800001111",
            "lat": 39.9,
            "long": 116.4,
        },
        content_type="application/json",
    )
    assert response.status_code == 201


def test_post_malformed_body_is_a_400(client, open311_world):
    response = client.post(
        "/open311/v2/requests.json", b"{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert _error(response)[0] == 400


# --- keys -------------------------------------------------------------------------


def test_key_is_stored_as_a_digest(open311_world):
    client = Open311Client.objects.get()
    assert open311_world["key"] not in (client.key_digest, client.key_prefix)
    assert client.key_digest == open311_services.key_digest(open311_world["key"])
    found = open311_services.open311_client_for_key(api_key=open311_world["key"])
    assert found == client
    assert Open311Client.objects.get().last_used_at is not None


def test_key_for_another_street_is_out_of_scope(street_staff, other_tree):
    with pytest.raises(OutOfScope):
        open311_services.open311_client_create(
            actor=street_staff, name="外区应用", region=other_tree["street"]
        )


@pytest.mark.parametrize(
    "role", [UserRole.COMMUNITY_STAFF, UserRole.GRID_WORKER, UserRole.SUPERVISOR]
)
def test_only_the_street_centre_issues_keys(tree, role):
    actor = UserFactory(role=role, region=tree["street"])
    with pytest.raises(NotAllowed):
        open311_services.open311_client_create(
            actor=actor, name="应用", region=tree["street"]
        )


def test_revoke_outside_the_area_is_out_of_scope(open311_world, other_tree):
    outsider = UserFactory(role=UserRole.STREET_STAFF, region=other_tree["street"])
    with pytest.raises(OutOfScope):
        open311_services.open311_client_revoke(
            actor=outsider, client_id=open311_world["client"].pk
        )
    assert Open311Client.objects.get().is_active


# --- the admin ----------------------------------------------------------------------


def test_admin_issues_a_key_shown_once_and_revokes_it(client, street_staff, tree):
    client.force_login(street_staff)
    response = client.post(
        "/admin/tickets/open311client/add/",
        {"name": "市民随手拍", "region": tree["street"].pk},
        follow=True,
    )
    assert response.status_code == 200
    issued = Open311Client.objects.get(name="市民随手拍")
    messages = [str(m) for m in response.context["messages"]]
    (shown,) = [m for m in messages if issued.key_prefix in m]
    key = next(word for word in shown.split() if word.startswith(issued.key_prefix))
    assert open311_services.open311_client_for_key(api_key=key) == issued
    assert issued.created_by == street_staff
    page = client.get("/admin/tickets/open311client/").content.decode()
    assert key not in page
    client.post(
        "/admin/tickets/open311client/",
        {"action": "revoke", "_selected_action": [issued.pk]},
    )
    issued.refresh_from_db()
    assert not issued.is_active


def test_xml_answer_survives_control_characters(open311_post, client):
    response = open311_post(description="井盖\x01缺失\x1f")
    assert response.status_code == 201
    number = response.json()[0]["service_request_id"]
    body = client.get(f"/open311/v2/requests/{number}.xml").content
    root = ElementTree.fromstring(body)
    assert root.findtext("request/description") == "井盖缺失"

"""Open311 public reads, field by field against GeoReport v2 in JSON and XML:
discovery, services, service definitions, requests (filters, window, count),
one request, tokens; the stage → status mapping through the real services; and
what is never public (other tickets, the reporter's data)."""

import datetime as dt
from xml.etree import ElementTree

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tests.tickets.factories import CategoryFactory, new_ticket
from tickets import services
from tickets.choices import Stage, Verdict
from tickets.models import Open311Request, Ticket

pytestmark = pytest.mark.django_db

BASE = "/open311/v2/"
SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


def _xml(response, root_tag):
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ElementTree.fromstring(response.content)
    assert root.tag == root_tag
    return root


def _posted(open311_post, **overrides):
    response = open311_post(**overrides)
    assert response.status_code == 201, response.content
    (body,) = response.json()
    return Ticket.objects.get(number=body["service_request_id"]), body["token"]


# --- discovery and services ---------------------------------------------------------


def test_discovery_json_and_xml(client):
    data = client.get(BASE + "discovery.json").json()
    assert set(data) == {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = data["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["type"] == "production"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    assert parse_datetime(endpoint["changeset"]) is not None
    root = _xml(client.get(BASE + "discovery.xml"), "discovery")
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("url") == "http://testserver/open311/v2/"
    assert [f.text for f in endpoint.findall("formats/format")] == [
        "text/xml",
        "application/json",
    ]


def test_services_list_the_active_catalogue(client, category):
    CategoryFactory(name="停用的", is_active=False)
    response = client.get(BASE + "services.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    by_code = {s["service_code"]: s for s in response.json()}
    assert category.service_code in by_code
    service = by_code[category.service_code]
    assert list(service) == SERVICE_FIELDS
    assert service["service_name"] == "占道经营"
    assert service["group"] == "城市管理"
    assert service["metadata"] is False
    assert service["type"] == "realtime"
    assert "停用的" not in {s["service_name"] for s in by_code.values()}

    root = _xml(client.get(BASE + "services.xml"), "services")
    xml_services = {s.findtext("service_code"): s for s in root.findall("service")}
    assert set(xml_services) == set(by_code)
    xml_service = xml_services[category.service_code]
    assert [c.tag for c in xml_service] == SERVICE_FIELDS
    assert xml_service.findtext("metadata") == "false"
    assert xml_service.findtext("group") == "城市管理"


def test_service_definition_json_and_xml(client, category):
    data = client.get(f"{BASE}services/{category.service_code}.json").json()
    assert data == {"service_code": category.service_code, "attributes": []}
    root = _xml(
        client.get(f"{BASE}services/{category.service_code}.xml"),
        "service_definition",
    )
    assert root.findtext("service_code") == category.service_code
    assert root.find("attributes") is not None
    assert client.get(f"{BASE}services/nothing.json").status_code == 404
    missing = client.get(f"{BASE}services/nothing.xml")
    assert missing.status_code == 404
    assert _xml(missing, "errors").findtext("error/code") == "404"


def test_unknown_format_or_path_is_404(client):
    assert client.get(BASE + "services.html").status_code == 404
    assert client.get(BASE + "services").status_code == 404


def test_jurisdiction_id(client, settings):
    settings.OPEN311_JURISDICTION_ID = "xicheng.example"
    ok = client.get(BASE + "services.json", {"jurisdiction_id": "xicheng.example"})
    assert ok.status_code == 200
    assert client.get(BASE + "services.json").status_code == 200
    wrong = client.get(BASE + "services.json", {"jurisdiction_id": "other"})
    assert wrong.status_code == 404
    assert wrong.json()[0]["code"] == 404


# --- requests --------------------------------------------------------------------------


def test_request_fields_json_and_xml(client, open311_post):
    ticket, token = _posted(open311_post)
    data = client.get(f"{BASE}requests/{ticket.number}.json").json()
    (request,) = data
    assert list(request) == REQUEST_FIELDS
    assert request["service_request_id"] == ticket.number
    assert request["status"] == "open"
    assert request["status_notes"]
    assert request["service_code"] == "street-vending"
    assert request["service_name"] == "占道经营"
    assert request["description"] == "小区北门有人占道摆摊"
    assert request["agency_responsible"] == ticket.holder_region.name
    assert parse_datetime(request["requested_datetime"]) == ticket.received_at.replace(
        microsecond=0
    )
    assert parse_datetime(request["updated_datetime"]).tzinfo is not None
    assert request["expected_datetime"] is None  # not yet with a handler
    assert request["address"] == "北门"
    assert request["address_id"] == ticket.region.code
    assert request["lat"] == pytest.approx(39.9001)
    assert request["long"] == pytest.approx(116.4002)

    root = _xml(client.get(f"{BASE}requests/{ticket.number}.xml"), "service_requests")
    (xml_request,) = root.findall("request")
    assert [c.tag for c in xml_request] == REQUEST_FIELDS
    assert xml_request.findtext("service_request_id") == ticket.number
    assert xml_request.findtext("status") == "open"
    assert xml_request.find("expected_datetime").text is None  # an empty element
    assert float(xml_request.findtext("lat")) == pytest.approx(39.9001)

    tokens = client.get(f"{BASE}tokens/{token}.json").json()
    assert tokens == [{"service_request_id": ticket.number, "token": token}]
    root = _xml(client.get(f"{BASE}tokens/{token}.xml"), "service_requests")
    assert root.findtext("request/service_request_id") == ticket.number
    assert root.findtext("request/token") == token


def test_personal_data_is_never_public(client, open311_post):
    ticket, _token = _posted(open311_post, phone="13912345678")
    for path in (f"requests/{ticket.number}", "requests"):
        for fmt in ("json", "xml"):
            body = client.get(f"{BASE}{path}.{fmt}").content.decode()
            assert "13912345678" not in body and "5678" not in body
            assert "phone" not in body and "email" not in body


def test_only_open311_requests_are_public(client, open311_post, street_staff, tree):
    ticket, _token = _posted(open311_post)
    hotline_like = new_ticket(street_staff, tree, description="内部巡查发现")
    listed = {
        r["service_request_id"] for r in client.get(BASE + "requests.json").json()
    }
    assert listed == {ticket.number}
    assert client.get(f"{BASE}requests/{hotline_like.number}.json").status_code == 404
    ids = f"{ticket.number},{hotline_like.number}"
    found = client.get(BASE + "requests.json", {"service_request_id": ids}).json()
    assert [r["service_request_id"] for r in found] == [ticket.number]


def test_requests_filters(client, open311_post, open311_world):
    first, _ = _posted(open311_post, description="一")
    second, _ = _posted(open311_post, description="二", phone="13800002222")
    other = CategoryFactory(name="环境卫生", service_code="sanitation")
    third, _ = _posted(
        open311_post, description="三", phone="13800003333", service_code="sanitation"
    )
    assert other.service_code == "sanitation"

    def ids(**params):
        response = client.get(BASE + "requests.json", params)
        assert response.status_code == 200, response.content
        return [r["service_request_id"] for r in response.json()]

    assert ids() == [third.number, second.number, first.number]  # newest first
    assert ids(service_code="sanitation") == [third.number]
    assert ids(service_code="sanitation,street-vending") == ids()
    assert ids(status="open") == ids()
    assert ids(status="closed") == []
    assert ids(status="open,closed") == ids()
    # service_request_id overrides the other filters.
    assert ids(service_request_id=first.number, service_code="sanitation") == [
        first.number
    ]
    later = (timezone.now() + dt.timedelta(days=1)).isoformat()
    assert ids(start_date=later) == []
    earlier = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(ids(start_date=earlier)) == 3
    assert len(ids(end_date=later)) == 3


def test_requests_default_window_is_90_days(client, open311_post):
    ticket, _ = _posted(open311_post)
    old = timezone.now() - dt.timedelta(days=91)
    Open311Request.objects.filter(ticket=ticket).update(requested_at=old)
    assert client.get(BASE + "requests.json").json() == []
    start = (old - dt.timedelta(days=1)).isoformat()
    found = client.get(BASE + "requests.json", {"start_date": start}).json()
    assert [r["service_request_id"] for r in found] == [ticket.number]


def test_requests_count_is_bounded(client, open311_post, settings):
    settings.OPEN311_MAX_REQUESTS = 2
    for n in range(3):
        _posted(open311_post, description=f"第{n}件", phone=f"1380000{n}000")
    assert len(client.get(BASE + "requests.json").json()) == 2
    root = _xml(client.get(BASE + "requests.xml"), "service_requests")
    assert len(root.findall("request")) == 2


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "yesterday"},
        {"end_date": "2026-13-45T00:00:00Z"},
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2025-01-01T00:00:00Z"},
        {"start_date": "2025-01-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
        {"status": "pending"},
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_requests_bad_parameters_are_400(client, params, fmt):
    response = client.get(f"{BASE}requests.{fmt}", params)
    assert response.status_code == 400
    if fmt == "json":
        (error,) = response.json()
        assert error["code"] == 400 and error["description"]
    else:
        assert _xml(response, "errors").findtext("error/code") == "400"


def test_unknown_request_and_token_are_404(client):
    assert client.get(BASE + "requests/2026-999999.json").status_code == 404
    assert client.get(BASE + "tokens/not-a-token.json").status_code == 404
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.get(f"{BASE}tokens/{missing}.xml").status_code == 404


def test_requests_page_costs_fixed_queries(
    client, open311_post, django_assert_max_num_queries
):
    for n in range(4):
        _posted(open311_post, description=f"第{n}件", phone=f"1380000{n}000")
    with django_assert_max_num_queries(2):
        assert len(client.get(BASE + "requests.json").json()) == 4


# --- the status mapping, through the real services -------------------------------


def test_status_follows_the_lifecycle(
    client, open311_post, open311_world, street_staff, community_staff, handler
):
    ticket, _ = _posted(open311_post)
    grid, community = open311_world["tree"]["grids"][0], ticket.region.parent

    def public():
        (request,) = client.get(f"{BASE}requests/{ticket.number}.json").json()
        return request

    notes = {public()["status_notes"]}
    services.ticket_triage(
        actor=street_staff,
        ticket_id=ticket.pk,
        category=open311_world["category"],
        region=grid,
        responsible_leader=street_staff,
    )
    services.ticket_dispatch(
        actor=street_staff, ticket_id=ticket.pk, handling_region=community
    )
    assert public()["agency_responsible"] == community.name
    notes.add(public()["status_notes"])
    services.ticket_accept(actor=community_staff, ticket_id=ticket.pk, handler=handler)
    ticket.refresh_from_db()
    request = public()
    assert request["status"] == "open"
    assert parse_datetime(
        request["expected_datetime"]
    ) == ticket.stage_deadline.replace(microsecond=0)
    notes.add(request["status_notes"])
    services.ticket_handle(
        actor=handler,
        ticket_id=ticket.pk,
        result="已劝离",
        cause="摊贩",
        measures="劝导",
    )
    assert public()["status"] == "open"
    services.ticket_record_phone_verdict(
        actor=community_staff,
        ticket_id=ticket.pk,
        verdict=Verdict.SATISFIED,
        call_note="回访",
    )
    services.ticket_assess(
        actor=street_staff,
        ticket_id=ticket.pk,
        satisfaction_score=100,
        timeliness_score=100,
        effect_score=90,
    )
    request = public()
    assert request["status"] == "closed"
    assert request["expected_datetime"] is None
    notes.add(request["status_notes"])
    assert len(notes) == 4  # each stage says itself
    assert ticket.reporter_phone not in str(request)
    closed = client.get(BASE + "requests.json", {"status": "closed"}).json()
    assert [r["service_request_id"] for r in closed] == [ticket.number]


def test_merged_request_is_closed_with_a_pointer(
    client, open311_post, street_staff, tree
):
    ticket, _ = _posted(open311_post)
    survivor = new_ticket(street_staff, tree, description="同一件事")
    services.ticket_merge(actor=street_staff, ticket_id=ticket.pk, into_id=survivor.pk)
    ticket.refresh_from_db()
    assert ticket.stage == Stage.MERGED
    (request,) = client.get(f"{BASE}requests/{ticket.number}.json").json()
    assert request["status"] == "closed"
    assert survivor.number in request["status_notes"]


def test_status_notes_follow_the_language(client, open311_post):
    ticket, _ = _posted(open311_post)
    english = client.get(
        f"{BASE}requests/{ticket.number}.json", HTTP_ACCEPT_LANGUAGE="en"
    ).json()[0]["status_notes"]
    chinese = client.get(
        f"{BASE}requests/{ticket.number}.json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).json()[0]["status_notes"]
    assert english.startswith("Received")
    assert chinese != english

"""Open311 checked with a published client, PyPI ``georeport`` (0.3.1), against
the live server: the service list, a service definition, the request list with
its filters and one request, in both of its formats.

georeport has no call for posting a request, so the POST is sent as the spec
writes it (form-encoded, with ``api_key``) with ``requests``, the HTTP library
georeport itself uses, and then read back through georeport.
"""

import pytest
import requests
from georeport import GeoReport

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def root(live_server):
    return f"{live_server.url}/open311/v2"


def _post(root, key, **overrides):
    data = {
        "api_key": key,
        "service_code": "street-vending",
        "description": "人行道井盖缺失",
        "phone": "13800001111",
        "lat": "39.9102",
        "long": "116.4001",
    }
    data.update(overrides)
    response = requests.post(f"{root}/requests.json", data=data, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()[0]


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_georeport_reads_every_resource(root, open311_world, settings, output_format):
    settings.OPEN311_JURISDICTION_ID = "gridwork.test"
    from django.core.cache import cache

    cache.clear()
    created = _post(root, open311_world["key"])
    client = GeoReport(root, jurisdiction="gridwork.test", output_format=output_format)

    services = client.get_service_list()
    if isinstance(services, dict):  # xmltodict: one <service> is a dict, not a list
        services = [services]
    codes = {service["service_code"] for service in services}
    assert "street-vending" in codes

    definition = client.get_service_definition("street-vending")
    assert definition["service_code"] == "street-vending"

    found = client.get_service_requests(service_code="street-vending", status="open")
    if isinstance(found, dict):
        found = [found]
    assert [r["service_request_id"] for r in found] == [created["service_request_id"]]

    one = client.get_service_request(created["service_request_id"])
    assert one["service_request_id"] == created["service_request_id"]
    assert one["status"] == "open"
    assert one["service_code"] == "street-vending"
    assert one["description"] == "人行道井盖缺失"
    assert float(one["lat"]) == pytest.approx(39.9102)
    assert "13800001111" not in str(one)


def test_georeport_sees_errors_as_http_errors(root, open311_world):
    client = GeoReport(root, jurisdiction="somewhere-else")
    with pytest.raises(requests.HTTPError) as raised:
        client.get_service_list()
    assert raised.value.response.status_code == 404
    assert raised.value.response.json()[0]["code"] == 404


def test_post_without_a_key_is_403_on_the_wire(root, open311_world):
    response = requests.post(
        f"{root}/requests.xml",
        data={"service_code": "street-vending", "description": "x"},
        timeout=30,
    )
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert b"<errors><error><code>403</code>" in response.content

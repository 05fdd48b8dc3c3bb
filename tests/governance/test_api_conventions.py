"""What every API route shares: built on ``ApiViewMixin`` (``Idempotency-Key``
on its POSTs), the token first among the authentication classes, the schema
and its self-hosted docs, the error component and codes documented."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from grids.api.idempotency import IdempotentPostMixin
from grids.api.schema import ERROR_CODES


def _api_callbacks(patterns=None, prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _api_callbacks(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and route.startswith("api/v"):
            yield route, entry.callback


def test_every_api_view_honours_idempotency_keys():
    routes = list(_api_callbacks())
    assert len(routes) > 10
    for route, callback in routes:
        view_class = getattr(callback, "cls", None) or getattr(
            callback, "view_class", None
        )
        assert view_class is not None, route
        exempt = getattr(view_class, "idempotency_exempt", "")
        assert issubclass(view_class, IdempotentPostMixin) or exempt, (
            f"{route}: build the view on grids.api.views.ApiViewMixin, or say in "
            "idempotency_exempt why its POSTs need no Idempotency-Key"
        )


def test_token_authentication_comes_first(settings):
    classes = settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]
    assert classes[0] == "grids.api.authentication.ApiTokenAuthentication"


@pytest.mark.django_db
def test_schema_documents_errors_tokens_and_idempotency(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    import json

    document = json.loads(response.content)
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "message", "extra"]
    for code in ERROR_CODES:
        assert f"`{code}`" in error["description"]
    assert document["components"]["securitySchemes"]["tokenAuth"]["name"] == (
        "Authorization"
    )
    accept = document["paths"]["/api/v1/tickets/{id}/accept/"]["post"]
    assert {"400", "401", "403", "404", "409", "429"} <= set(accept["responses"])
    assert any(p["name"] == "Idempotency-Key" for p in accept["parameters"])
    example = accept["responses"]["409"]["content"]["application/json"]["example"]
    assert set(example) == {"code", "message", "extra"}


@pytest.mark.django_db
def test_docs_are_self_hosted(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "swagger-ui" in page
    for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs"):
        assert cdn not in page
    assert "/static/drf_spectacular_sidecar/" in page
    # No inline script or style (the CSP refuses them): the start script is a file.
    assert "<script>" not in page and "<style>" not in page
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()

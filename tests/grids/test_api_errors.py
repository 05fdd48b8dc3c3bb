"""The API's one error format: every failure is ``{"code", "message", "extra"}``
with a 4xx status, in the request's language."""

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import translation
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.throttling import BaseThrottle

from grids.errors import Conflict, OutOfScope

factory = APIRequestFactory()


class _Body(serializers.Serializer):
    count = serializers.IntegerField(min_value=1)


def _view(raise_what, permission=AllowAny, throttle=None):
    @api_view(["POST"])
    @permission_classes([permission])
    @throttle_classes([throttle] if throttle else [])
    def view(request):
        if raise_what == "body":
            _Body(data=request.data).is_valid(raise_exception=True)
        elif raise_what is not None:
            raise raise_what
        return Response({})

    return view


def _post(view, data=b'{"count": 1}'):
    request = factory.post("/x", data, content_type="application/json")
    return view(request)


def test_domain_error_keeps_code_status_and_extra():
    response = _post(_view(Conflict("taken", code="duplicate", extra={"id": 7})))
    assert response.status_code == 409
    assert response.data == {
        "code": "duplicate",
        "message": "taken",
        "extra": {"id": 7},
    }


def test_out_of_scope_is_404():
    response = _post(_view(OutOfScope("no")))
    assert response.status_code == 404
    assert response.data["code"] == "out_of_scope"


def test_malformed_json_is_400_with_code():
    response = _post(_view("body"), data=b"{not json")
    assert response.status_code == 400
    assert response.data["code"] == "malformed"
    assert set(response.data) == {"code", "message", "extra"}


def test_field_errors_go_into_extra():
    response = _post(_view("body"), data=b'{"count": 0}')
    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert "count" in response.data["extra"]["fields"]
    assert response.data["message"]


def test_django_validation_error_and_404_are_mapped():
    response = _post(_view(DjangoValidationError({"name": ["bad"]})))
    assert (response.status_code, response.data["code"]) == (400, "invalid")
    response = _post(_view(Http404()))
    assert (response.status_code, response.data["code"]) == (404, "not_found")


def test_not_authenticated_and_throttled():
    response = _post(_view(None, permission=IsAuthenticated))
    assert response.status_code in (401, 403)
    assert response.data["code"] == "not_authenticated"

    class Never(BaseThrottle):
        def allow_request(self, request, view):
            return False

        def wait(self):
            return 30

    response = _post(_view(None, throttle=Never))
    assert response.status_code == 429
    assert response.data == {
        "code": "throttled",
        "message": response.data["message"],
        "extra": {"retry_after": 30},
    }


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_messages_follow_the_language(language):
    with translation.override(language):
        response = _post(_view(Http404()))
    assert response.data["message"]

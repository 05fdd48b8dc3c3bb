"""API tokens: made and revoked by who keeps the account, stored hashed, checked
on every request (valid, expired, revoked, wrong, closed account), last use
noted at most once a minute."""

import datetime as dt
import hashlib

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from grids.choices import UserRole
from grids.errors import NotAllowed, OutOfScope
from grids.models import ApiToken
from grids.services.api_tokens import (
    TokenRefused,
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
)
from tests.api_client import token_client
from tests.grids.factories import UserFactory

pytestmark = pytest.mark.django_db
REGIONS = "/api/v1/regions/"


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()


def _client(key=None, scheme="Token"):
    from rest_framework.test import APIClient

    client = APIClient()
    if key is not None:
        client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
    return client


def test_key_is_stored_only_hashed(street_staff, community_staff):
    token, key = api_token_create(actor=street_staff, user=community_staff, name="平板")
    token.refresh_from_db()
    assert key.startswith(token.prefix + ".")
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {token.prefix, token.key_hash, token.name}
    assert token.created_by == street_staff
    # Default validity from the settings.
    assert token.expires_at > timezone.now() + dt.timedelta(days=100)


def test_valid_token_acts_as_its_account(community_staff, tree):
    response = token_client(community_staff).get(REGIONS)
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    # The community's own subtree only: itself and its two grids.
    assert ids == {tree["communities"][0].pk, *(g.pk for g in tree["grids"][:2])}


def test_bearer_scheme_is_accepted(community_staff):
    assert (
        token_client(community_staff, scheme="Bearer").get(REGIONS).status_code == 200
    )


def test_no_credentials_is_401_with_scheme():
    response = _client().get(REGIONS)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.parametrize(
    "header",
    [
        "Token gw_000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "Token nonsense",
        "Token " + "x" * 5000,
        "Token a b",
        "Token",
    ],
)
def test_wrong_or_malformed_token_is_401(header, community_staff):
    client = _client()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(REGIONS)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"code", "message", "extra"}
    assert body["code"] == "token_invalid"


def test_right_prefix_wrong_secret_is_401(street_staff, community_staff):
    _token, key = api_token_create(actor=street_staff, user=community_staff, name="x")
    forged = key[:-3] + ("AAA" if not key.endswith("AAA") else "BBB")
    response = _client(forged).get(REGIONS)
    assert response.status_code == 401
    assert response.json()["code"] == "token_invalid"


def test_expired_token_is_401(street_staff, community_staff):
    expires = timezone.now() + dt.timedelta(days=1)
    _token, key = api_token_create(
        actor=street_staff, user=community_staff, name="x", expires_at=expires
    )
    with time_machine.travel(expires + dt.timedelta(seconds=1)):
        response = _client(key).get(REGIONS)
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"


def test_revoked_token_is_401(street_staff, community_staff):
    token, key = api_token_create(actor=street_staff, user=community_staff, name="x")
    assert _client(key).get(REGIONS).status_code == 200
    api_token_revoke(actor=street_staff, token_id=token.pk)
    response = _client(key).get(REGIONS)
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"
    # Revoking again changes nothing.
    again = api_token_revoke(actor=street_staff, token_id=token.pk)
    assert again.revoked_by == street_staff


def test_closed_account_token_is_401(street_staff, community_staff):
    _token, key = api_token_create(actor=street_staff, user=community_staff, name="x")
    community_staff.is_active = False
    community_staff.save(update_fields=["is_active"])
    response = _client(key).get(REGIONS)
    assert response.status_code == 401
    assert response.json()["code"] == "token_inactive"


def test_last_used_written_at_most_once_a_minute(
    street_staff, community_staff, django_assert_num_queries
):
    token, key = api_token_create(actor=street_staff, user=community_staff, name="x")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        api_token_authenticate(key=key)
        token.refresh_from_db()
        assert token.last_used_at == start
        # Within the minute: the lookup only, no write.
        with django_assert_num_queries(1):
            api_token_authenticate(key=key)
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        api_token_authenticate(key=key)
    token.refresh_from_db()
    assert token.last_used_at == start + dt.timedelta(seconds=61)


def test_street_staff_may_not_make_tokens_for_another_street(street_staff, other_tree):
    outsider = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=other_tree["communities"][0]
    )
    with pytest.raises(OutOfScope):
        api_token_create(actor=street_staff, user=outsider, name="x")


def test_roles_that_do_not_keep_accounts_may_not_make_tokens(
    community_staff, grid_worker, supervisor
):
    for actor in (community_staff, supervisor, grid_worker):
        with pytest.raises(NotAllowed):
            api_token_create(actor=actor, user=grid_worker, name="x")


def test_expiry_must_be_future_and_bounded(street_staff, community_staff, settings):
    from grids.errors import DomainError

    with pytest.raises(DomainError):
        api_token_create(
            actor=street_staff,
            user=community_staff,
            name="x",
            expires_at=timezone.now() - dt.timedelta(seconds=1),
        )
    with pytest.raises(DomainError):
        api_token_create(
            actor=street_staff,
            user=community_staff,
            name="x",
            expires_at=timezone.now()
            + dt.timedelta(days=settings.API_TOKEN_MAX_DAYS + 1),
        )
    with pytest.raises(DomainError):
        api_token_create(actor=street_staff, user=community_staff, name="  ")


def test_authenticate_refuses_garbage():
    for key in ("", "gw_", "gw_zzzzzzzzzzzz.x", "\x00" * 10):
        with pytest.raises(TokenRefused):
            api_token_authenticate(key=key)


# --- The admin -----------------------------------------------------------------


def test_admin_makes_a_token_and_shows_the_key_once(
    client, street_staff, community_staff
):
    client.force_login(street_staff)
    response = client.post(
        reverse("admin:grids_apitoken_add"),
        {
            "user": community_staff.pk,
            "name": "社区平板",
            "expires_at_0": "",
            "expires_at_1": "",
        },
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(user=community_staff)
    key = response.context["key"]
    assert key.startswith(token.prefix)
    assert key in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    # The list and the token's page never show it again.
    listing = client.get(reverse("admin:grids_apitoken_changelist")).content.decode()
    detail = client.get(
        reverse("admin:grids_apitoken_change", args=[token.pk])
    ).content.decode()
    assert key not in listing and key not in detail
    assert token.prefix in listing
    # The key works.
    assert _client(key).get(REGIONS).status_code == 200


def test_admin_offers_only_accounts_the_user_keeps(client, street_staff, other_tree):
    outsider = UserFactory(
        role=UserRole.COMMUNITY_STAFF, region=other_tree["communities"][0]
    )
    client.force_login(street_staff)
    response = client.post(
        reverse("admin:grids_apitoken_add"), {"user": outsider.pk, "name": "x"}
    )
    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    assert not ApiToken.objects.exists()


def test_admin_revoke_action(client, street_staff, community_staff):
    token, key = api_token_create(actor=street_staff, user=community_staff, name="x")
    client.force_login(street_staff)
    response = client.post(
        reverse("admin:grids_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == street_staff
    assert _client(key).get(REGIONS).status_code == 401


def test_community_staff_do_not_see_the_token_admin(client, community_staff):
    client.force_login(community_staff)
    response = client.get(reverse("admin:grids_apitoken_changelist"))
    assert response.status_code == 403

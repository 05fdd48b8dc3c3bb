"""API test helpers: a DRF client that authenticates with a real API token
(made through the service), and the cache cleared so that throttles count from
zero."""

from rest_framework.test import APIClient

from grids.services.api_tokens import api_token_create
from tests.grids.factories import UserFactory


def token_for(user, **kwargs) -> str:
    """A fresh API key for ``user``, made by an administrator."""
    admin = UserFactory(role="", region=None, is_superuser=True)
    _token, key = api_token_create(
        actor=admin, user=user, name=kwargs.pop("name", "test device"), **kwargs
    )
    return key


def token_client(user, scheme: str = "Token") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {token_for(user)}")
    return client

"""API token authentication: ``Authorization: Token <key>`` (or ``Bearer <key>``).

The key is checked by ``grids.services.api_tokens.api_token_authenticate``; the
request then acts as the token's account, with its role and scope. A header
with another scheme is left to the next class (the browser's session); a
token that is malformed, unknown, revoked or expired is a 401 in the API's
error format, with the code saying which.
"""

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from grids.services.api_tokens import TokenRefused, api_token_authenticate

SCHEMES = ("token", "bearer")


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode("latin-1") not in SCHEMES:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Give the token after the word Token, with no spaces in it."),
                code="token_invalid",
            )
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(
                _("This API token is not valid."), code="token_invalid"
            ) from None
        try:
            token = api_token_authenticate(key=key)
        except TokenRefused as exc:
            raise exceptions.AuthenticationFailed(exc.message, code=exc.code) from None
        return token.user, token

    def authenticate_header(self, request):
        # A 401 (not a 403) for a request without credentials.
        return f'{self.keyword} realm="api"'


from . import schema as _schema  # noqa: E402, F401  (registers the OpenAPI scheme)

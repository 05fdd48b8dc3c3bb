"""The OpenAPI document's shared parts (drf-spectacular): the token scheme,
the ``Error`` component with the stable error codes, the error responses of
every operation and the ``Idempotency-Key`` header of every POST.

``add_error_components`` is a postprocessing hook (``SPECTACULAR_SETTINGS``);
the token scheme registers itself when this module is imported (by
``grids.api.authentication``).
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

# The stable codes of the error body, with what they mean. Services may raise
# more specific codes of their own (``wrong_stage``, ``invalid_handler``…); a
# client can always rely on the status and on these.
ERROR_CODES = {
    "invalid": "The body or a parameter is not valid; extra.fields says which.",
    "malformed": "The body could not be parsed (not JSON, wrong encoding).",
    "not_authenticated": "No credentials: send Authorization: Token <key>.",
    "authentication_failed": "The credentials were refused.",
    "token_invalid": "The API token is malformed or unknown.",
    "token_revoked": "The API token was revoked in the admin.",
    "token_expired": "The API token has expired.",
    "token_inactive": "The API token's account is closed.",
    "not_allowed": "Your role may not do this (403).",
    "not_found": "No such object, or it lies outside your area (404).",
    "out_of_scope": "The object lies outside your area (404).",
    "method_not_allowed": "This method is not offered here (405).",
    "not_acceptable": "The Accept header asks for a format we do not offer (406).",
    "unsupported_media_type": "Send JSON (415).",
    "throttled": "Too many requests; extra.retry_after says when to retry (429).",
    "conflict": "The object changed meanwhile, or the action does not fit its "
    "state (409).",
    "wrong_stage": "The ticket is not in a stage this action starts from (409).",
    "idempotency_key_reused": "The Idempotency-Key was used with another "
    "request (409).",
    "bad_idempotency_key": "The Idempotency-Key is not 8-64 letters, digits or "
    "hyphens.",
}

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error of this API. Codes: "
    + "; ".join(f"`{code}`: {text}" for code, text in ERROR_CODES.items()),
    "required": ["code", "message", "extra"],
    "properties": {
        "code": {"type": "string", "description": "Stable, machine-readable."},
        "message": {
            "type": "string",
            "description": "For people, in the request's language.",
        },
        "extra": {
            "type": "object",
            "additionalProperties": True,
            "description": "Details: `fields` for invalid input, `retry_after` "
            "for a throttle, the object's state for a conflict.",
        },
    },
}

_EXAMPLES = {
    "400": ("invalid", "This field is required.", {"fields": {"description": ["…"]}}),
    "401": ("token_expired", "This API token has expired.", {}),
    "403": ("not_allowed", "Your role does not allow this action.", {}),
    "404": ("not_found", "Not found, or outside your area.", {}),
    "409": (
        "idempotency_key_reused",
        "This Idempotency-Key was already used for another request.",
        {},
    ),
    "429": ("throttled", "Request was throttled.", {"retry_after": 12}),
}
_DESCRIPTIONS = {
    "400": "Invalid or malformed input.",
    "401": "Missing, invalid, revoked or expired credentials.",
    "403": "The caller's role may not do this.",
    "404": "Not found, or outside the caller's area.",
    "409": "A conflict: wrong state, a race lost, a reused Idempotency-Key.",
    "429": "Throttled.",
}

IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "8-64 letters, digits or hyphens (a UUID). The same key with "
    "the same body returns the first response (header Idempotent-Replayed: true); "
    "with another body, 409 idempotency_key_reused. Per account; kept 72 hours.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{8,64}$"},
}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "grids.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>` (or `Bearer <key>`): a key made for one "
            "account in the admin (API tokens), shown once. The request acts "
            "with that account's role and area.",
        }


def _error_response(status: str) -> dict:
    code, message, extra = _EXAMPLES[status]
    return {
        "description": _DESCRIPTIONS[status],
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/Error"},
                "example": {"code": code, "message": message, "extra": extra},
            }
        },
    }


def add_error_components(result, generator, request, public):
    """Postprocessing hook: the Error component, the error responses of every
    operation, the Idempotency-Key header of every POST."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = (
        ERROR_SCHEMA
    )
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = ["400", "401", "403", "404", "429"]
            if method == "post":
                statuses.append("409")
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name") == "Idempotency-Key" for p in parameters):
                    parameters.append(IDEMPOTENCY_PARAMETER)
            for status in statuses:
                operation["responses"].setdefault(status, _error_response(status))
    return result

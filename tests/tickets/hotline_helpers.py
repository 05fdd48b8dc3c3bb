"""Helpers of the 12345 tests: a platform made through the service, and a
signed push as the platform sends it."""

import json
import time

from tickets.hotline import services, signing

URL = "/api/v1/hotline/tickets"


def make_platform(actor, region, *, code="jn12345", **kwargs):
    """A platform through the service; its plain secret as ``.plain_secret``."""
    platform, secret = services.hotline_platform_create(
        actor=actor,
        name=kwargs.pop("name", f"12345 {code}"),
        code=code,
        region=region,
        callback_url=kwargs.pop("callback_url", "http://127.0.0.1:9/callback"),
        **kwargs,
    )
    platform.plain_secret = secret
    return platform


def payload(**overrides) -> dict:
    data = {
        "number": "JN2026120600001",
        "received_at": "2026-12-06T09:30:00+08:00",
        "caller_name": "李四",
        "caller_phone": "13800001111",
        "address": "历下区测试街道幸福小区3号楼",
        "area_code": "",
        "content": "小区门口占道经营，影响通行",
        "category_code": "0101",
    }
    data.update(overrides)
    return data


def push(
    client,
    platform,
    data=None,
    *,
    body: bytes | None = None,
    secret: str | None = None,
    timestamp: float | None = None,
    signature: str | None = None,
    url: str = URL,
    headers: dict | None = None,
):
    """POST a signed push (or a deliberately badly signed one)."""
    if body is None:
        body = json.dumps(data if data is not None else payload()).encode()
    sent = signing.signed_headers(
        secret if secret is not None else platform.plain_secret,
        platform.code,
        body,
        now=timestamp if timestamp is not None else time.time(),
    )
    if signature is not None:
        sent[signing.SIGNATURE_HEADER] = signature
    sent.update(headers or {})
    return client.post(
        url,
        data=body,
        content_type="application/json",
        headers={k: v for k, v in sent.items() if v is not None},
    )


def read(
    client,
    platform,
    number: str,
    *,
    secret: str | None = None,
    timestamp: float | None = None,
    signed_path: str | None = None,
    headers: dict | None = None,
):
    """GET a ticket back by its number, signed over ``GET <path>`` (or over
    ``signed_path``, to sign another URL than the one asked)."""
    path = f"{URL}/{number}"
    sent = signing.signed_headers(
        secret if secret is not None else platform.plain_secret,
        platform.code,
        signing.read_message("GET", signed_path or path),
        now=timestamp if timestamp is not None else time.time(),
    )
    sent.update(headers or {})
    return client.get(path, headers={k: v for k, v in sent.items() if v is not None})

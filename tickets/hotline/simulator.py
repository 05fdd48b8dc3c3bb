"""A reference client of the 12345 protocol (``manage.py hotline_simulate``):
what a platform does, so the integration can be tried without one.

- ``day_of_pushes``: a day of tickets as a platform sends them (numbers, times
  spread over the last hours, callers, addresses, category codes — some
  mapped, some not);
- ``send_push``: signs and POSTs one (docs/hotline.md);
- ``read_status``: reads a pushed ticket back by its number (signed GET);
- ``CallbackServer``: the platform's callback endpoint on localhost, in a
  thread: checks each callback's signature and keeps it.

It talks HTTP only; it never writes our tables.
"""

import datetime as dt
import json
import random
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import signing

PUSH_PATH = "/api/v1/hotline/tickets"

MATTERS = [
    ("0101", "小区门口占道经营，早晚高峰影响通行"),
    ("0102", "楼道堆放杂物，存在消防隐患"),
    ("0201", "夜间施工噪音扰民，已持续三天"),
    ("0202", "饭店油烟直排，居民窗户无法打开"),
    ("0301", "路灯损坏，晚上出行不安全"),
    ("0302", "雨水井盖缺失，请尽快修复"),
    ("0401", "小区垃圾清运不及时，异味严重"),
    ("0501", "楼上漏水至我家，协商无果"),
    ("9999", "咨询老年人助餐服务办理地点"),
]
STREETS = ["幸福路", "和平街", "解放路", "文化东路", "山大路"]
SURNAMES = "王李张刘陈杨赵黄周吴"


def day_of_pushes(
    count: int, *, now: dt.datetime, prefix: str = "SIM", seed: int = 0
) -> list[dict]:
    """``count`` tickets received over the last 12 hours, oldest first."""
    rng = random.Random(seed)
    start = now - dt.timedelta(hours=12)
    pushes = []
    for n in range(count):
        code, content = rng.choice(MATTERS)
        at = start + dt.timedelta(seconds=(12 * 3600) * n / max(count, 1))
        pushes.append(
            {
                "number": f"{prefix}{now:%Y%m%d}{n + 1:05d}",
                "received_at": at.isoformat(timespec="seconds"),
                "caller_name": rng.choice(SURNAMES) + "先生",
                "caller_phone": f"13{rng.randrange(10**9):09d}",
                "address": f"{rng.choice(STREETS)}{rng.randrange(1, 200)}号",
                "content": content,
                "category_code": code,
            }
        )
    return pushes


def send_push(
    base_url: str, platform: str, secret: str, data: dict, *, timeout: float = 10
):
    """Sign and POST one push; (HTTP status, the JSON answer)."""
    body = json.dumps(data, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    headers.update(signing.signed_headers(secret, platform, body))
    request = urllib.request.Request(
        base_url.rstrip("/") + PUSH_PATH, data=body, headers=headers, method="POST"
    )
    return _answer(request, timeout)


def read_status(
    base_url: str, platform: str, secret: str, number: str, *, timeout: float = 10
):
    """Read a pushed ticket back by its number, signed over ``GET <path>``;
    (HTTP status, the JSON answer)."""
    path = f"{PUSH_PATH}/{number}"
    headers = signing.signed_headers(
        secret, platform, signing.read_message("GET", path)
    )
    request = urllib.request.Request(
        base_url.rstrip("/") + urllib.parse.quote(path), headers=headers
    )
    return _answer(request, timeout)


def _answer(request, timeout):
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, {"raw": raw[:200].decode(errors="replace")}


class CallbackServer:
    """The platform's callback endpoint: every POST is kept as (headers, body,
    whether its signature checked out); answers ``statuses`` in order, then
    200; a bad signature 401. A delivery id seen before is answered 200 and
    counted as a duplicate (what a platform that dedupes does)."""

    def __init__(self, host="127.0.0.1", port=0, *, secret=None, on_receive=None):
        self.secret = secret
        self.on_receive = on_receive
        self.received = []
        self.statuses = []
        self.seen = set()
        self.duplicates = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = min(int(self.headers.get("Content-Length") or 0), 1 << 20)
                body = self.rfile.read(length)
                headers = dict(self.headers)
                valid = server._valid(headers, body)
                with server.lock:
                    delivery = headers.get(signing.DELIVERY_HEADER, "")
                    status = server.statuses.pop(0) if server.statuses else 200
                    if valid is False:
                        status = 401  # a platform refuses what we did not sign
                    elif status == 200 and delivery in server.seen:
                        server.duplicates += 1
                    elif status == 200:
                        server.seen.add(delivery)
                    server.received.append((headers, body, valid))
                if server.on_receive:
                    server.on_receive(headers, body, valid, status)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _valid(self, headers, body) -> bool | None:
        if self.secret is None:
            return None
        try:
            signing.check_timestamp(headers.get(signing.TIMESTAMP_HEADER))
            signing.verify(
                self.secret,
                headers.get(signing.TIMESTAMP_HEADER, ""),
                body,
                headers.get(signing.SIGNATURE_HEADER),
            )
        except signing.BadSignature:
            return False
        return True

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/callback"

    def bodies(self) -> list[dict]:
        return [json.loads(body) for _h, body, _v in self.received]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

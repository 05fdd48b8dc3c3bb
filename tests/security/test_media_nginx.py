"""deploy/nginx.conf in front of the app: nginx sends the photo Django allowed
(X-Accel-Redirect), with Django's type and nosniff, and nothing else.

Runs the real nginx on the compose configuration, with only the upstream, the
listening port and the media folder replaced. Skips where nginx is not installed
(Debian: ``apt-get install nginx-light``).
"""

import io
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from PIL import Image

from grids import services as grid_services
from grids.choices import PatrolKind
from tests.processes import ROOT, free_port

NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(NGINX is None, reason="nginx is not installed"),
]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _get(url, *, cookie=None, data=None):
    request = urllib.request.Request(url, data=data)
    if cookie:
        request.add_header("Cookie", cookie)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def app_server():
    """The plain WSGI application in a thread (pytest-django's live_server would
    answer /media/ itself from MEDIA_ROOT, which is what production must not do)."""
    server = ThreadedWSGIServer(("127.0.0.1", 0), _QuietHandler)
    server.set_app(WSGIHandler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=15)


@pytest.fixture
def nginx(app_server, tmp_path, settings):
    media = tmp_path / "media"
    media.mkdir()
    settings.MEDIA_ROOT = media
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    port = free_port()
    upstream = app_server
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    for old, new in (
        ("server web:8000;", f"server {upstream};"),
        ("listen 80;", f"listen 127.0.0.1:{port};"),
        ("alias /data/media/;", f"alias {media}/;"),
    ):
        assert old in site, old
        site = site.replace(old, new)
    (tmp_path / "site.conf").write_text(site)
    temp = "".join(
        f"{kind}_temp_path {tmp_path}/{kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        "daemon off;\nmaster_process off;\nworker_processes 1;\n"
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{\naccess_log off;\n{temp}include {tmp_path}/site.conf;\n}}\n"
    )
    args = [NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
    subprocess.run([*args, "-t"], check=True, capture_output=True)
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.stderr.read().decode()) from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", media
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_nginx_sends_the_allowed_photo_with_djangos_type_and_nosniff(
    nginx, client, tree, grid_worker, community_staff
):
    base, media = nginx
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buffer, "JPEG")
    polyglot = buffer.getvalue() + b"<script>alert(1)</script>"
    patrol = grid_services.patrol_record(
        actor=grid_worker,
        region=tree["grids"][0],
        kind=PatrolKind.PATROL,
        notes="巡查",
        photo=SimpleUploadedFile("x.html", polyglot, "text/html"),
    )
    client.force_login(community_staff)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    url = base + patrol.photo.url

    status, headers, body = _get(url, cookie=cookie)
    assert status == 200, body
    assert headers["Content-Type"] == "image/jpeg"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Disposition"].startswith("inline; filename=")
    assert "private" in headers["Cache-Control"]
    assert "X-Accel-Redirect" not in headers
    assert "ETag" in headers  # sent by nginx's file handler, not by Django
    assert body == (media / patrol.photo.name).read_bytes()
    assert b"<script" not in body

    # Anonymous: Django's login redirect, no bytes.
    status, headers, _body = _get(url)
    assert status == 302 and "/accounts/login/" in headers["Location"]
    # The internal location cannot be asked for directly.
    status, _headers, body = _get(f"{base}/protected-media/{patrol.photo.name}")
    assert status == 404 and not body.startswith(b"\xff\xd8")


def test_nginx_refuses_a_body_over_client_max_body_size(nginx):
    base, _media = nginx
    status, _headers, _body = _get(
        f"{base}/accounts/login/", data=b"x" * (48 * 1024 * 1024 + 1)
    )
    assert status == 413

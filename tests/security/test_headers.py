"""Security headers and production settings: ``check --deploy`` is clean with
DEBUG off behind the HTTPS proxy, cookies are secure by default, the pages send a
content security policy and a Permissions-Policy, templates carry no inline
script or style, and gunicorn sends no server banner."""

import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.processes import BIN, ROOT, free_port, process_env, running

PRODUCTION = {
    "DEBUG": "0",
    "BEHIND_HTTPS_PROXY": "1",
    "SECRET_KEY": "x7#kq9v!2m$Lp0zR8w@tYb4nC6hJ1sE5dF3gA-uI_oP+eW&rT-only-for-the-deploy-check",
    "ALLOWED_HOSTS": "gridwork.example",
    "CSRF_TRUSTED_ORIGINS": "https://gridwork.example",
    "DJANGO_SETTINGS_MODULE": "governance.settings",
}


def _manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=process_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db
def test_check_deploy_is_clean_with_production_settings(tmp_path):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        GRIDWORK_VAR_DIR=str(tmp_path),
        **PRODUCTION,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output


SHOW_SETTINGS = (
    "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE,"
    " s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE,"
    " s.CSRF_COOKIE_SAMESITE, getattr(s, 'SECURE_SSL_REDIRECT', False),"
    " getattr(s, 'SECURE_HSTS_SECONDS', 0) > 0)"
)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (PRODUCTION, "True True True Lax Lax True True"),
        # DEBUG off without the proxy setting: secure cookies, no redirect.
        (
            {**PRODUCTION, "BEHIND_HTTPS_PROXY": "0"},
            "True True True Lax Lax False False",
        ),
        # The development server over plain HTTP.
        (
            {**PRODUCTION, "DEBUG": "1", "BEHIND_HTTPS_PROXY": "0"},
            "False False True Lax Lax False False",
        ),
    ],
)
def test_cookies_are_secure_unless_debugging(tmp_path, env, expected):
    result = _manage(
        "shell", "-c", SHOW_SETTINGS, GRIDWORK_VAR_DIR=str(tmp_path), **env
    )
    assert result.stdout.strip().splitlines()[-1] == expected, result.stderr


@pytest.mark.django_db
def test_pages_send_the_security_headers(client):
    response = client.get("/accounts/login/")
    csp = dict(
        directive.strip().split(" ", 1)
        for directive in response["Content-Security-Policy"].split(";")
    )
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"  # no inline script, no eval
    assert csp["style-src-elem"] == "'self'"
    assert csp["object-src"] == csp["frame-ancestors"] == "'none'"
    permissions = response["Permissions-Policy"]
    assert "camera=(self)" in permissions
    assert "geolocation=(self)" in permissions
    assert "microphone=()" in permissions
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]
INLINE = [
    (
        re.compile(
            r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I
        ),
        "inline <script>",
    ),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def _templates():
    for folder in TEMPLATE_DIRS:
        yield from sorted(Path(folder).rglob("*.html"))


def test_no_template_has_inline_script_or_style():
    found = [
        f"{path.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 1}: {what}"
        for path in _templates()
        for text in [path.read_text()]
        for pattern, what in INLINE
        for m in pattern.finditer(text)
    ]
    assert not found, "\n".join(found)


@pytest.mark.django_db(transaction=True)
def test_gunicorn_sends_no_server_banner(tmp_path):
    port = free_port()
    env = process_env(GRIDWORK_VAR_DIR=str(tmp_path), ALLOWED_HOSTS="127.0.0.1")
    args = [
        str(BIN / "gunicorn"),
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "governance.wsgi:application",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        "1",
    ]
    with running(args, env=env, ready_text="Booting worker"):
        for _ in range(100):
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/accounts/login/", timeout=5
                ) as response:
                    headers = response.headers
                break
            except OSError:
                import time

                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not answer")
    assert "Server" not in headers, headers["Server"]
    assert "Content-Security-Policy" in headers

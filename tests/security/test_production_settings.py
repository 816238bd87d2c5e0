"""Production settings: `check --deploy` is clean, cookies are secure, HSTS and the Content Security Policy are on."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


# Production runs on PostgreSQL: its settings are checked against it in the SQLite run too (`check` does
# not connect), where SQLite's silenced warning about covering indexes would be reported as "2 silenced".
PRODUCTION_DATABASE = "postgres://billing@db.example.com:5432/billing"


def production_env(**extra) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "SECURE_", "DEBUG"))}
    env.setdefault("DATABASE_URL", PRODUCTION_DATABASE)
    env.update({"DJANGO_SETTINGS_MODULE": "helpdesk_billing.settings", "DEBUG": "false",
                "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "billing.example.com", **extra})
    return env


def manage(*args, env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_check_deploy_is_clean_with_the_production_environment():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


SETTINGS = ["DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SECURE_SSL_REDIRECT",
            "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_CONTENT_TYPE_NOSNIFF", "X_FRAME_OPTIONS",
            "SECURE_PROXY_SSL_HEADER"]


def settings_of(env) -> dict:
    code = ("import json, django; django.setup(); from django.conf import settings as s; "
            f"print(json.dumps({{name: getattr(s, name, None) for name in {SETTINGS!r}}}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_debug_off_means_https_only_cookies_and_hsts():
    assert settings_of(production_env()) == {
        "DEBUG": False, "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True, "SESSION_COOKIE_HTTPONLY": True,
        "SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31536000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_CONTENT_TYPE_NOSNIFF": True, "X_FRAME_OPTIONS": "DENY", "SECURE_PROXY_SSL_HEADER": None,
    }


def test_behind_a_tls_proxy_the_forwarded_scheme_is_trusted_when_asked():
    values = settings_of(production_env(SECURE_PROXY_SSL_HEADER="true", SECURE_HSTS_SECONDS="600"))
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_HSTS_SECONDS"] == 600


def test_development_keeps_plain_http():
    values = settings_of(production_env(DEBUG="true"))
    assert (values["SESSION_COOKIE_SECURE"], values["SECURE_SSL_REDIRECT"], values["SECURE_HSTS_SECONDS"]) == (
        False, False, 0)


# --- The Content Security Policy, in the responses ---------------------------------------------

def policy(response) -> dict[str, list[str]]:
    directives = [part.split() for part in response["Content-Security-Policy"].split(";") if part.strip()]
    return {name: values for name, *values in directives}


@pytest.mark.parametrize("address", ["/login/", "/admin/login/"])
def test_pages_allow_only_our_own_scripts_and_styles(client, db, address):
    response = client.get(address)
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"][0] == "'self'" and csp["style-src"][0] == "'self'"
    assert "'unsafe-inline'" not in csp["script-src"] + csp["style-src"]
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"


def test_our_templates_have_no_inline_script_or_style(client, db):
    """Inline code would need the nonce: ours has none, every script and style is a static file."""
    offenders = []
    for path in [*(ROOT / "templates").rglob("*.html"), *(ROOT / "web" / "templates").rglob("*.html")]:
        if path.name == "invoice_pdf.html":  # rendered by WeasyPrint into a PDF, never served as a page
            continue
        text = path.read_text()
        if re.search(r"\sstyle=|<style|<script>|<script(?![^>]*\ssrc=)|\son[a-z]+=", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_admin_inline_scripts_carry_the_nonce(client, db):
    from ..factories import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.get(reverse("admin:index"))
    nonce = policy(response)["script-src"][1][len("'nonce-"):-1]
    assert f'nonce="{nonce}"' in response.content.decode()

"""The README's Deploy instructions make a working production server (conftest.py runs them, DEBUG off):
/healthz for the load balancer, the admin with its styles and its autocomplete fields, static files
under hashed names cached for ever and compressed when asked, and a log without a traceback.
"""

import datetime
import gzip
import json
import re
import shlex
import subprocess
import sys
from urllib.parse import urlencode

import brotli

from .conftest import PASSWORD, ROOT, deploy_commands

FOREVER = "max-age=315360000, public, immutable"  # ten years: WhiteNoise's for a name holding its hash


def manifest(deployment) -> dict[str, str]:
    """Return collectstatic's map of each static file to its hashed name."""
    return json.loads((deployment.static_root / "staticfiles.json").read_text())["paths"]


def static_links(html: str) -> list[str]:
    return sorted(set(re.findall(r'(?:href|src)="(/static/[^"]+)"', html)))


def assert_served_for_ever(deployment, url: str) -> None:
    answer = deployment.fetch(url)
    assert (answer.status, answer.headers["Cache-Control"]) == (200, FOREVER), url
    assert answer.body == (deployment.static_root / url.removeprefix("/static/")).read_bytes()


def form_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1]


def post(deployment, path: str, fields: dict):
    """Submit a form as the browser does through the proxy (its Origin is the public one)."""
    return deployment.fetch(path, method="POST", body=urlencode(fields).encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded",
                                     "Origin": deployment.exported["CSRF_TRUSTED_ORIGINS"]})


def test_every_command_of_the_block_ran(deployment):
    assert deployment.ran == deploy_commands()
    assert {"python manage.py migrate --no-input", "python manage.py collectstatic --no-input"} <= set(deployment.ran)
    assert set(deployment.exported) == {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS",
                                        "SECURE_PROXY_SSL_HEADER", "DATABASE_URL", "CONN_MAX_AGE", "STATIC_ROOT",
                                        "MEDIA_ROOT", "LOG_LEVEL"}
    assert deployment.exported["DEBUG"] == "false"


def test_healthz_answers_the_load_balancer_over_plain_http(deployment):
    answer = deployment.fetch("/healthz", proxy=False)
    assert answer.status == 200
    assert json.loads(answer.body) == {"status": "ok", "app": "ok", "database": "ok"}


def test_the_admin_is_styled_by_hashed_files_cached_for_ever(deployment):
    page = deployment.fetch("/admin/login/")
    assert page.status == 200
    links = static_links(page.text())
    names = manifest(deployment)
    assert re.fullmatch(r"admin/css/base\.[0-9a-f]{12}\.css", names["admin/css/base.css"])
    assert f"/static/{names['admin/css/base.css']}" in links
    # Every file the page links is a hashed name (and so may be cached for ever).
    assert set(links) <= {f"/static/{name}" for name in names.values()}
    for url in links:
        assert_served_for_ever(deployment, url)


def test_a_hashed_file_is_sent_compressed_when_asked(deployment):
    url = f"/static/{manifest(deployment)['admin/css/base.css']}"
    plain = deployment.fetch(url)
    assert plain.headers["Content-Encoding"] is None
    assert plain.headers["Content-Type"] == 'text/css; charset="utf-8"'
    gzipped = deployment.fetch(url, headers={"Accept-Encoding": "gzip"})
    assert (gzipped.status, gzipped.headers["Content-Encoding"], gzipped.headers["Vary"],
            gzipped.headers["Cache-Control"]) == (200, "gzip", "Accept-Encoding", FOREVER)
    assert gzip.decompress(gzipped.body) == plain.body
    brotlied = deployment.fetch(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert (brotlied.status, brotlied.headers["Content-Encoding"]) == (200, "br")
    assert brotli.decompress(brotlied.body) == plain.body
    assert len(brotlied.body) < len(gzipped.body) < len(plain.body)


def test_a_name_without_its_hash_is_served_but_cached_briefly(deployment):
    answer = deployment.fetch("/static/admin/css/base.css")
    assert (answer.status, answer.headers["Cache-Control"]) == (200, "max-age=60, public")


def test_the_administrator_sets_up_a_team_with_its_autocomplete_field(deployment):
    """Issue 9's symptom: without static files the autocomplete fields showed no options."""
    deployment.cookies.clear()
    login = deployment.fetch("/admin/login/?next=/admin/")
    answer = post(deployment, "/admin/login/?next=/admin/", {
        "csrfmiddlewaretoken": form_token(login.text()), "username": "admin", "password": PASSWORD, "next": "/admin/"})
    assert (answer.status, answer.headers["Location"]) == (302, "/admin/")

    form = deployment.fetch("/admin/projects/project/add/")
    answer = post(deployment, "/admin/projects/project/add/", {
        "csrfmiddlewaretoken": form_token(form.text()), "name": "Support contracts", "billable": "on", "_save": "Save"})
    assert (answer.status, answer.headers["Location"]) == (302, "/admin/projects/project/")

    form = deployment.fetch("/admin/tickets/helpdeskteam/add/")
    assert form.status == 200
    links, names = static_links(form.text()), manifest(deployment)
    for name in ("admin/js/autocomplete.js", "admin/js/vendor/select2/select2.full.min.js",
                 "admin/css/autocomplete.css", "admin/js/vendor/jquery/jquery.min.js"):
        assert f"/static/{names[name]}" in links
    for url in links:
        assert_served_for_ever(deployment, url)
    # What the Project field's script asks for as the administrator types "Supp".
    options = deployment.fetch("/admin/autocomplete/?" + urlencode(
        {"term": "Supp", "app_label": "tickets", "model_name": "helpdeskteam", "field_name": "project"}))
    assert options.status == 200
    found = json.loads(options.body)
    assert found == {"results": [{"id": found["results"][0]["id"], "text": "Support contracts"}],
                     "pagination": {"more": False}}
    answer = post(deployment, "/admin/tickets/helpdeskteam/add/", {
        "csrfmiddlewaretoken": form_token(form.text()), "name": "Customer Care", "timesheet_on_ticket": "on",
        "project": found["results"][0]["id"], "time_reinvoicing": "on", "invoiced_timesheets": "all",
        "_save": "Save"})
    assert (answer.status, answer.headers["Location"]) == (302, "/admin/tickets/helpdeskteam/")
    teams = deployment.fetch("/admin/tickets/helpdeskteam/")
    assert "Customer Care" in teams.text() and "Support contracts" in teams.text()


def test_the_worker_of_the_block_does_a_billing_run(deployment):
    """The README's `manage.py worker`, with production's settings, takes a run's jobs: two prepaid orders
    invoiced, posted, and each posted invoice's PDF stored."""
    def manage(*args):
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=deployment.env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    code = ("from invoicing.runs import run_start; from invoicing.models import RunStep, Invoice; import sys, time\n"
            "from sales.services import sale_order_confirm\n"
            "block = Product.objects.create(name='Block of 10 h', list_price=80, service_policy='ordered_prepaid')\n"
            "for name in ('Acme', 'Initech'):\n"
            "    order = SaleOrder.objects.create(customer=Customer.objects.create(name=name))\n"
            "    SaleOrderLine.objects.create(order=order, product=block, quantity=10, price_unit=80)\n"
            "    sale_order_confirm(order=order)\n"
            "run = run_start()\n"
            "def wait(kind):\n"
            "    for _ in range(600):\n"
            "        if run.steps.filter(kind=kind, state='done').exists(): return\n"
            "        time.sleep(0.1)\n"
            "    sys.exit(f'{kind} not done')\n"
            "wait('create'); from invoicing.runs import run_post; run_post(run=run); wait('post')\n"
            "for _ in range(600):\n"
            "    if not Invoice.objects.filter(state='posted', pdf='').exists(): break\n"
            "    time.sleep(0.1)\n"
            "print(sorted((i.number, bool(i.pdf)) for i in Invoice.objects.all()))")
    year = datetime.date.today().year
    assert manage("shell", "-c", code).strip().splitlines()[-1] == (
        f"[('INV/{year}/00001', True), ('INV/{year}/00002', True)]")
    assert "Traceback" not in deployment.worker_log.read_text()


def test_gunicorn_logs_its_own_lines_and_no_traceback(deployment):
    """Run last in this file: after every request above, the server's log holds gunicorn's start and nothing wrong."""
    log = deployment.log.read_text()
    gunicorn = shlex.split(next(line for line in deployment.ran if line.startswith("gunicorn ")))
    workers = int(gunicorn[gunicorn.index("--workers") + 1])
    assert f"[INFO] Listening at: http://127.0.0.1:{deployment.port}" in log
    assert log.count("[INFO] Booting worker with pid") == workers
    # gunicorn's records keep gunicorn's handler: the app's, which names the logger, does not repeat them.
    assert "gunicorn.error" not in log
    assert "Traceback" not in log
    assert "[ERROR]" not in log

"""The layout (README, Layout): which of our packages may import which.

core at the ground imports none of ours; a domain app imports core and the domain apps to its
left; the interfaces (web, api, backoffice) import core and the domain apps, not each other;
the project package (settings, root urls) sits on top. Read from the source with `ast`, so an
import inside a function counts as much as one at the top of a module.
"""

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ["audit", "sales", "projects", "tickets", "timesheets", "invoicing", "reports"]
INTERFACES = ["web", "api", "backoffice", "portal"]
OURS = {"core", *DOMAIN, *INTERFACES, "helpdesk_billing"}
# The imports between interfaces: the admin and the portal sign in with the screens' throttled login form;
# the portal's Hours draws its burn-down charts as the Reports do (web.charts makes the SVG in Python).
EXCEPTIONS = {("backoffice/site.py", "web"), ("portal/forms.py", "web"), ("portal/views/hours.py", "web")}


def allowed(package: str) -> set[str]:
    """Return the packages of ours that `package` may import (itself included)."""
    if package == "core":
        return {"core"}
    if package in DOMAIN:
        return {"core", *DOMAIN[: DOMAIN.index(package) + 1]}
    if package in INTERFACES:
        return {"core", *DOMAIN, package}
    return OURS  # helpdesk_billing: settings, root urls, wsgi


def imported(path: Path) -> set[str]:
    """Return the top-level packages of ours that the module at `path` imports."""
    package = path.relative_to(ROOT).parts[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add(package if node.level else (node.module or "").split(".")[0])
    return names & OURS


def offences() -> list[str]:
    found = []
    for package in sorted(OURS):
        for path in sorted((ROOT / package).rglob("*.py")):
            module = path.relative_to(ROOT)
            for name in sorted(imported(path) - allowed(package)):
                if (str(module), name) not in EXCEPTIONS:
                    found.append(f"{module} imports {name}")
    return found


def test_every_package_imports_only_what_lies_below_it():
    assert offences() == []


def test_the_check_sees_a_wrong_import(tmp_path, monkeypatch):
    """The check itself can fail: a domain app importing an interface, core importing a domain app."""
    for package, source in {"core": "from sales.models import Customer\n",
                            "sales": "def late():\n    from web.views import page\n",
                            "tickets": "import timesheets.models\n",
                            "web": "from api.urls import router\n"}.items():
        (tmp_path / package).mkdir()
        (tmp_path / package / "bad.py").write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert offences() == ["core/bad.py imports sales", "sales/bad.py imports web",
                          "tickets/bad.py imports timesheets", "web/bad.py imports api"]

"""Issue 17: the French catalogues are complete, exact and compiled (README, Languages).

Each app keeps its catalogue in <app>/locale/fr/LC_MESSAGES/django.po, the project's templates in
locale/; scripts/messages.sh extracts and compiles them all. These tests fail on a string the source
holds and a catalogue lacks, on an untranslated or fuzzy message, on a translation that loses or
invents a placeholder, on a .mo older than its .po, and on one English text translated two ways.
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
APPS = ["core", "audit", "sales", "projects", "tickets", "timesheets", "invoicing", "reports", "web", "api",
        "backoffice", "portal", "."]
PLACEHOLDER = re.compile(r"\{[a-z_0-9]*\}|%\([a-z_0-9]+\)[sd]|%[sd]")


def catalogue_path(app: str, root: Path = ROOT, suffix: str = "po") -> Path:
    return root / app / "locale" / "fr" / "LC_MESSAGES" / f"django.{suffix}"


def read(path: Path):
    with path.open("rb") as f:
        return read_po(f, locale="fr")


def catalogues() -> list[Path]:
    return [catalogue_path(app) for app in APPS if catalogue_path(app).exists()]


def messages(path: Path):
    """(id, string) of every message; plural ones once per form."""
    for message in read(path):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        yield message, ids, strings


def test_every_app_with_strings_has_its_catalogue():
    assert [app for app in APPS if not catalogue_path(app).exists()] == []


@pytest.mark.parametrize("path", catalogues(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_message_is_translated_and_none_is_fuzzy(path):
    catalogue = read(path)
    assert not catalogue.fuzzy, "the header is still marked fuzzy"
    assert catalogue.plural_forms == "nplurals=2; plural=(n > 1);"
    bad = [(message.id, "fuzzy" if message.fuzzy else "untranslated") for message, _, strings in messages(path)
           if message.fuzzy or not all(strings)]
    assert bad == []


@pytest.mark.parametrize("path", catalogues(), ids=lambda p: str(p.relative_to(ROOT)))
def test_translations_keep_their_placeholders(path):
    bad = []
    for message, ids, strings in messages(path):
        wanted = sorted(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            if sorted(PLACEHOLDER.findall(string)) != wanted and sorted(PLACEHOLDER.findall(ids[0])) != sorted(
                    PLACEHOLDER.findall(string)):
                bad.append((message.id, string))
    assert bad == []


@pytest.mark.parametrize("path", catalogues(), ids=lambda p: str(p.relative_to(ROOT)))
def test_compiled_catalogues_match_their_source(path):
    def pairs(catalogue):  # read_mo gives a plural's ids and strings as lists, read_po as tuples
        return {(m.context, tuple(m.id) if isinstance(m.id, list | tuple) else m.id):
                tuple(m.string) if isinstance(m.string, list | tuple) else m.string
                for m in catalogue if m.id and not m.fuzzy}

    with path.with_suffix(".mo").open("rb") as f:
        compiled = pairs(read_mo(f))
    source = pairs(read(path))
    assert compiled == source, "run scripts/messages.sh to compile the catalogues"


def test_one_english_text_has_one_french_translation():
    seen: dict[str, dict[str, list[str]]] = {}
    for path in catalogues():
        for message, ids, strings in messages(path):
            if message.context is None:
                seen.setdefault(ids[0], {}).setdefault(strings[0], []).append(str(path.relative_to(ROOT)))
    assert {text: ways for text, ways in seen.items() if len(ways) > 1} == {}


def test_the_catalogues_hold_every_string_of_the_source(tmp_path):
    """Extract again from a copy of the source: no catalogue gains or loses a message."""
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext is missing: make test installs it (scripts/ensure-debian.sh)")
    copy = tmp_path / "src"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "tests", "bench", "node_modules",
                                                              "staticfiles", "*.sqlite3", "media", "__pycache__"))
    subprocess.run(["sh", "scripts/messages.sh", sys.executable], cwd=copy, check=True, capture_output=True)
    for app in APPS:
        extracted = {message.id for message in read(catalogue_path(app, copy)) if message.id}
        committed = {message.id for message in read(catalogue_path(app)) if message.id}
        assert (app, sorted(extracted - committed, key=str)) == (app, [])
        assert (app, sorted(committed - extracted, key=str)) == (app, [])

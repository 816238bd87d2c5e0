"""Issue 17: the top bar and the error pages in French (README, Languages): templates/ and the root catalogue.

The language buttons read EN and FR and are named for their language in that language ("English", "Français");
the choice is labelled "Language" in the page's language.
"""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from helpdesk_billing.health import database_unavailable

FR = "fr-BE,fr;q=0.9"


@pytest.fixture
def member(agent, ticket):
    """An agent of the ticket's team."""
    ticket.team.members.add(agent)
    return agent


def nav(html: str) -> list[str]:
    bar = html[html.index('<nav aria-label="Principale">'):]
    bar = bar[:bar.index("</nav>")]
    return re.findall(r'<a href="[^"]*"(?: aria-current="page")?>([^<]+)</a>', bar)


def test_a_french_browser_reads_the_top_bar_in_french(client, member):
    client.force_login(member)
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE=FR).content.decode()

    assert '<html lang="fr">' in html
    assert nav(html) == ["Tickets", "Tâches", "Mes feuilles de temps", "Rapports"]
    assert '<button class="link" type="submit">Se déconnecter</button>' in html
    assert '''class="brand" href="/">Facturation de l'assistance</a>''' in html
    assert 'aria-label="Langue" title="Langue"' in html
    assert ('lang="en" aria-label="English" title="English">EN</button>' in html
            and 'lang="fr" aria-label="Français" title="Français" aria-pressed="true">FR</button>' in html)


def test_a_managers_every_link_in_french(client, manager):
    client.force_login(manager)
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE=FR).content.decode()

    assert nav(html) == ["Tickets", "Tâches", "Mes feuilles de temps", "À approuver", "Commandes clients",
                         "À facturer", "Factures", "En retard", "Rapports", "Administration"]


def test_an_english_browser_keeps_english_and_the_language_label(client, member):
    client.force_login(member)
    html = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<nav aria-label="Main">' in html and 'aria-label="Language" title="Language"' in html
    assert 'lang="en" aria-label="English" title="English" aria-pressed="true">EN</button>' in html


def test_the_404_page_in_french(client, member):
    client.force_login(member)
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=FR)
    html = response.content.decode()

    assert response.status_code == 404
    assert "<title>Introuvable · Facturation de l'assistance</title>" in html
    assert "<h1>Rien ici</h1>" in html
    assert "Cette page n'existe pas, ou elle appartient à une équipe dont vous ne faites pas partie." in html
    assert ">Retour à votre travail</a>" in html


def test_the_500_page_in_french(db, monkeypatch, member):
    client = Client(raise_request_exception=False)
    client.force_login(member)

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("web.views.tasks.tasks_for", broken)
    html = client.get(reverse("task_list"), HTTP_ACCEPT_LANGUAGE=FR).content.decode()

    assert "<h1>Une erreur s'est produite</h1>" in html
    assert "L'erreur a été enregistrée. Veuillez réessayer dans un instant." in html


def test_the_503_page_and_answer_in_french(rf):
    with translation.override("fr"):
        page = database_unavailable(rf.get("/tickets/")).content.decode()
        answer = database_unavailable(rf.get("/api/v1/tickets/"))

    said = "La base de données est indisponible, rien n&#x27;a donc été enregistré. Réessayez dans un instant."
    assert '<html lang="fr">' in page and "<h1>De retour dans un instant</h1>" in page and said in page
    assert ">Réessayer</a>" in page
    assert answer.status_code == 503
    assert json.loads(answer.content) == {
        "detail": "La base de données est indisponible, rien n'a donc été enregistré. Réessayez dans un instant."}

"""Issue 17: the API answers in the request's Accept-Language (README, Languages).

Its refusals and permission messages come from api/locale; DRF's own (authentication, required fields) from DRF's
catalogue. Field names, enum values and the schema's descriptions stay English. The language is the request's only:
a token sends no session, so a user's saved language (the top bar's) does not change what a script reads.
"""

import pytest
from rest_framework.test import APIClient

from core.languages import language_save

from ..api.conftest import API, client_for, log

FR = "fr-BE,fr;q=0.9"  # a French-speaking Belgian's browser
NBSP = "\u00a0"  # before a colon, between a number and its unit
NNBSP = "\u202f"  # groups thousands, before ? ; !


@pytest.fixture
def team_ticket(ticket, agent):
    ticket.team.members.add(agent)
    return ticket


def speaking(client, language: str):
    """Return `client`, every request of it sending Accept-Language: `language`."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    return client


@pytest.fixture
def agent_api(agent):
    return speaking(client_for(agent), FR)


@pytest.fixture
def manager_api(manager):
    return speaking(client_for(manager), FR)


@pytest.fixture
def accountant_api(accountant):
    return speaking(client_for(accountant), FR)


def test_a_refused_role_is_told_in_french(accountant_api, team_ticket):
    response = log(accountant_api, team_ticket, "1:00")

    assert response.status_code == 403
    assert response.json() == {"detail": "Seuls les agents et les managers sont autorisés à enregistrer du temps."}
    assert response["Content-Language"] == "fr"


def test_the_same_refusal_in_english_for_an_english_request(accountant, team_ticket):
    response = log(speaking(client_for(accountant), "en"), team_ticket, "1:00")

    assert response.json() == {"detail": "Only agents and managers log time."}
    assert response["Content-Language"] == "en"


def test_drfs_own_messages_come_in_french_from_drf(team_ticket):
    response = log(speaking(APIClient(), FR), team_ticket, "1:00")

    assert response.status_code == 401
    assert response.json() == {"detail": "Informations d'authentification non fournies."}


def test_an_agent_may_log_only_their_own_time(agent_api, manager, team_ticket):
    response = log(agent_api, team_ticket, "1:00", user=manager.pk)

    assert response.status_code == 403
    assert response.json() == {"detail": "Vous ne pouvez enregistrer que votre propre temps."}


def test_an_agent_does_not_see_the_companys_billing_details(agent_api):
    response = agent_api.get(f"{API}/company/")

    assert response.status_code == 403
    assert response.json() == {"detail": "Seuls les managers et les comptables sont autorisés à consulter les "
                                         "coordonnées de facturation de la société."}


@pytest.mark.parametrize("body, answer", [
    ({"ids": [1]}, {"reason": ["Indiquez le motif du rejet."]}),
    ({"ids": [], "reason": "x"}, {"ids": ["Choisissez au moins une feuille de temps."]}),
    ({"ids": "1,2", "reason": "x"},
     {"ids": ["Indiquez les feuilles de temps sous forme de liste d'identifiants, par exemple [12, 13]."]}),
    # Counts written as French writes them: a narrow no-break space groups the thousands.
    ({"ids": ["x"] * 20_000, "reason": "x"},
     {"ids": [f"Indiquez au plus 10{NNBSP}000{NBSP}feuilles de temps à la fois."]}),
])
def test_a_rejection_that_names_nothing_is_refused_in_french(manager_api, body, answer):
    response = manager_api.post(f"{API}/timesheets/reject/", body, format="json")

    assert (response.status_code, response.json()) == (400, answer)


def test_a_week_out_of_range_is_refused_with_french_dates(agent_api):
    response = agent_api.get(f"{API}/timesheets/week/", {"week": "0001-01-01"})

    assert response.status_code == 400
    assert response.json() == {"week": ["Choisissez un jour du 01/01/1900 au 31/12/9998."]}


def test_an_unknown_address_is_said_in_french(agent_api):
    missing = agent_api.get(f"{API}/nowhere/")
    slashless = agent_api.get(f"{API}/tickets")

    assert (missing.status_code, slashless.status_code) == (404, 404)
    assert missing.json() == {"detail": "Il n'y a pas de /api/v1/nowhere/ dans cette API."}
    assert slashless.json() == {"detail": f"Il n'y a pas de /api/v1/tickets dans cette API{NBSP}: vouliez-vous dire "
                                          f"/api/v1/tickets/ (avec une barre oblique){NNBSP}?"}


def test_a_body_too_deep_is_refused_in_french(manager_api):
    response = manager_api.generic("POST", f"{API}/customers/", b"[" * 40 + b"]" * 40, "application/json")

    assert (response.status_code, response.json()) == (
        400, {"detail": f"Erreur d'analyse JSON - le corps est imbriqué sur plus de 32{NBSP}niveaux."})


def test_a_users_saved_language_does_not_change_the_apis(agent, team_ticket):
    """A script sends a token, not the session: the request's Accept-Language decides, else English."""
    language_save(user=agent, language="fr")
    client = client_for(agent)

    assert client.get(f"{API}/company/").json() == {
        "detail": "Only managers and accountants see the company's billing details."}
    assert speaking(client, FR).get(f"{API}/company/").json()["detail"].startswith("Seuls les managers")

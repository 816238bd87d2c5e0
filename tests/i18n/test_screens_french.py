"""Issue 17: the screens in French (README, Languages; web/locale).

A browser asking for French (Accept-Language), or a user who saved French, reads every main screen in French:
headings, labels, buttons, messages, refusals, form errors, weekday names, and dates as 02/12/2026. And no
text of the screens' catalogue is left in English on them.
"""

import datetime
import html as html_lib
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from core.languages import language_save
from core.roles import sync_groups
from invoicing.services import invoice_create_from_order, invoice_post
from sales.models import ServicePolicy, WorkType
from tickets.services import ticket_create
from timesheets.services import timesheet_log
from timesheets.week import week_start

from ..factories import ProductFactory, TeamFactory, UserFactory, confirmed_line, days_ago

CATALOGUE = Path(__file__).resolve().parents[2] / "web" / "locale" / "fr" / "LC_MESSAGES" / "django.po"
NB = "\u00a0"  # the no-break space French puts before « : » and « % »
NNB = "\u202f"  # the narrow one before « ; », « ? » and « ! »


def text_of(page: str) -> str:
    """The page's text as read: tags and scripts left out, entities read, spaces collapsed (no-break ones kept)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split(" ")).replace("\n", " ")


def squeeze(text: str) -> str:
    return re.sub(r"[ \t\n\r]+", " ", text)


def read(client, name, *args, **query) -> str:
    response = client.get(reverse(name, args=args), query)
    assert response.status_code == 200, (name, response.status_code)
    return squeeze(text_of(response.content.decode()))


def fr(day: datetime.date) -> str:
    return f"{day:%d/%m/%Y}"


def plain(text: str) -> str:
    """`text` with its no-break spaces as spaces: for figures (1 234,50 €), whose spaces Babel chooses."""
    return text.replace(NB, " ").replace(NNB, " ")


@pytest.fixture(autouse=True)
def groups_and_language(db):
    """The role groups; and English again after each test (a French request leaves its language active)."""
    sync_groups()
    yield
    translation.activate("en")


@pytest.fixture
def team(db):
    return TeamFactory(name="Support Bruxelles")


@pytest.fixture
def agent(team):
    user = UserFactory(username="alice", first_name="Alice", last_name="Martin", role="Agents")
    team.members.add(user)
    return user


@pytest.fixture
def manager(db):
    return UserFactory(username="marc", first_name="Marc", last_name="Dubois", role="Managers", is_staff=True)


@pytest.fixture
def accountant(db):
    return UserFactory(username="claire", first_name="Claire", last_name="Lambert", role="Accountants",
                       is_staff=True)


@pytest.fixture
def line(db):
    """A confirmed order of Boulangerie Dupont: 20 h of remote support at 90.00."""
    product = ProductFactory(name="Assistance à distance")
    return confirmed_line(product=product, order__customer__name="Boulangerie Dupont", quantity=20)


@pytest.fixture
def ticket(team, line, agent):
    """Filed by Alice for Boulangerie Dupont, billed to the line: its History says so."""
    return ticket_create(team=team, customer=line.order.customer, sale_line=line, title="Imprimante en panne",
                         actor=agent)


@pytest.fixture
def logged(agent, ticket):
    """1:30 two days ago and 0:45 yesterday, by Alice on the ticket."""
    return [timesheet_log(user=agent, date=days_ago(2), minutes=90, ticket=ticket, description="Diagnostic"),
            timesheet_log(user=agent, date=days_ago(1), minutes=45, ticket=ticket, description="Réparation")]


@pytest.fixture
def invoice(line, logged):
    return invoice_post(invoice=invoice_create_from_order(order=line.order))


def french(user) -> Client:
    """A browser that asks for French, signed in as `user`."""
    client = Client(HTTP_ACCEPT_LANGUAGE="fr")
    client.force_login(user)
    return client


# --- The main screens, exactly --------------------------------------------------------------------------------

def test_the_helpdesk_overview(agent, accountant, ticket):
    text = read(french(agent), "home")
    assert ("Vue d'ensemble de l'assistance Rapports Support Bruxelles Tickets ouverts 1 Mes tickets ouverts 0 "
            "Mon temps cette semaine 0:00 Temps de l'équipe cette semaine 0:00 Temps non facturé 0:00") in text
    assert "Alice Martin Agent Se déconnecter" in text
    text = read(french(accountant), "home")
    assert ("Vue d'ensemble de l'assistance Rapports À facturer Rien à facturer. En retard Rien en retard. "
            "Contestations ouvertes Aucune contestation ouverte. "  # issue 18: customers' disputes
            "Alertes 0 Aucune alerte ouverte. Support Bruxelles Tickets ouverts 1") in text
    assert "Claire Lambert Comptable Se déconnecter" in text


def test_the_tickets_list(agent, ticket):
    text = read(french(agent), "ticket_list")
    assert "Tickets 1 Nouveau ticket" in text
    assert ("Rechercher Équipe Toutes les équipes Statut Tous les statuts Ouvert Nouveau En cours En attente Résolu "
            "Clôturé Client Tous les clients Responsable N'importe qui Mes tickets Filtrer") in text
    assert ("N° Titre Client Équipe Responsable Statut Article de la commande client Temps passé "
            f"{ticket.pk} Imprimante en panne Boulangerie Dupont Support Bruxelles — Nouveau") in text


def test_the_ticket_page_with_its_log_time_form_and_history(agent, ticket, logged):
    WorkType.objects.create(name="Sur site", billing=WorkType.Billing.BILLABLE)
    WorkType.objects.create(name="Interne", billing=WorkType.Billing.NON_BILLABLE)
    text = read(french(agent), "ticket_detail", ticket.pk)
    assert f"#{ticket.pk} Imprimante en panne Nouveau" in text
    assert "Commencer le travail Mettre en attente Résoudre Clôturer" in text
    order, opened = ticket.sale_line.order.name, fr(timezone.localdate(ticket.created_at))
    assert (f"Commande client {order} Factures 0 Temps passé 2:15 Client Boulangerie Dupont Équipe Support Bruxelles "
            f"Responsable personne Me l'assigner Tâche — Ouvert le {opened}") in text
    assert f"▶ Lancer le minuteur conservé sur le serveur{NB}: fermer la page ne l'arrête pas" in text
    assert "Feuilles de temps Description 2 entrées · 2:15 au total Exporter en CSV" in text
    assert ("Date Agent Description Type de prestation Durée Article de la commande client Facturé Approbation "
            f"{fr(days_ago(1))} Alice Martin Réparation 0:45 {order} · Assistance à distance Non À approuver "
            f"Modifier Supprimer {fr(days_ago(2))} Alice Martin Diagnostic 1:30") in text
    assert ("Total 2:15 Enregistrer le temps Date Durée Description Type de prestation Par défaut de l'équipe "
            "Interne (non facturable) Sur site Enregistrer le temps") in text
    assert f"Saisissez la durée comme vous le souhaitez{NB}: 1:30, 1,5, 1h30 ou 90m." in text
    assert re.search(rf"Historique Quand Qui Quoi {opened} \d\d:\d\d alice "
                     "Ticket créé dans Support Bruxelles pour Boulangerie Dupont", text)


def test_log_time_says_so_in_french_and_refuses_in_french(agent, ticket):
    client = french(agent)
    address = reverse("ticket_detail", args=[ticket.pk])
    day = days_ago(1)
    response = client.post(address, {"action": "log", "log-date": day.isoformat(), "log-duration": "1:30",
                                     "log-description": "Mise à jour", "log-work_type": ""}, follow=True)
    assert f"1:30 enregistré le {fr(day)}." in text_of(response.content.decode())

    refused = client.post(address, {"action": "log", "log-date": "", "log-duration": "1:30",
                                    "log-description": "", "log-work_type": ""})
    assert "Ce champ est obligatoire." in text_of(refused.content.decode())  # Django's own, in French


def test_new_ticket_and_its_form_errors(agent, ticket):
    client = french(agent)
    text = read(client, "ticket_new")
    assert "Nouveau ticket Annuler Créer le ticket" in text
    assert "Équipe Choisissez une équipe Support Bruxelles Client Choisissez un client Titre Description" in text
    assert "Tâche — aucune — Une tâche du projet de l'équipe qu'aucun autre ticket ne lie" in text
    response = client.post(reverse("ticket_new"), {"team": ticket.team_id, "customer": "999999", "title": ""})
    assert response.status_code == 400
    errors = text_of(response.content.decode())
    assert "Choisissez l'un des clients de la liste." in errors
    assert "Ce champ est obligatoire." in errors


def test_my_timesheets_grid_in_french(agent, ticket, invoice):
    monday = week_start(days_ago(1))
    text = read(french(agent), "my_timesheets", week=monday.isoformat())
    sunday = monday + datetime.timedelta(days=6)
    assert (f"Mes feuilles de temps ← Semaine précédente Cette semaine Semaine suivante → "
            f"Semaine {monday.isocalendar()[1]}{NB}: du {fr(monday)} au {fr(sunday)} "
            "Ajouter un ticket Rechercher un ticket par titre ou client Ajouter la ligne") in text
    days = " ".join(f"{name} {fr(monday + datetime.timedelta(days=n))}"
                    for n, name in enumerate(["lun", "mar", "mer", "jeu", "ven", "sam", "dim"]))
    assert f"Ticket ou tâche {days} Total #{ticket.pk} Imprimante en panne Boulangerie Dupont" in text
    # A cell of invoiced time is read-only, with its reason in French.
    assert f"Facturé sur {invoice.number}{NB}: le temps facturé ne peut pas être modifié." in text
    assert (f"Enregistrer Saisissez les durées sous la forme 1:30, 1,5, 1h30 ou 90m{NNB}; vide ou 0 supprime le "
            f"temps du jour. Entrée enregistre{NNB}; une cellule marquée est en lecture seule{NB}: pointez-la pour "
            "savoir pourquoi.") in text


def test_the_sales_order_page(accountant, line, logged):
    order = line.order
    text = plain(read(french(accountant), "order_detail", order.pk))
    assert (f"Commandes clients / {order.name} Commande client {order.name} Commande client Factures 0 Tickets 1 "
            f"Client Boulangerie Dupont Comptable Tous les comptables Date de la commande {fr(order.date_order)} "
            f"Confirmé {fr(timezone.localdate(order.confirmed_at))}") in text
    assert ("Lignes de commande Produit Politique de facturation Commandé Livré Facturé À facturer Unité "
            "Prix unitaire Assistance à distance Basé sur les feuilles de temps 20,00 h 2,25 h 0,00 h 2,25 h heures "
            "90,00 €") in text
    assert ("Créer une facture Feuilles de temps du au Aperçu Créer une facture Facture les feuilles de temps non "
            "encore facturées de chaque ligne") in text
    assert "Tickets et tâches facturés sur cette commande Ticket ou tâche Statut Temps passé" in text
    assert "Factures Aucune facture pour l'instant." in text


def test_the_invoice_page(accountant, ticket, invoice):
    text = plain(read(french(accountant), "invoice_detail", invoice.pk))
    assert (f"Factures / {invoice.number} Facture {invoice.number} Comptabilisé Non payé Note de crédit "
            "Exporter en CSV Envoyer par e-mail PDF en cours de préparation Télécharger le PDF") in text
    assert (f"Adresse de facturation Boulangerie Dupont 1 Main Street 1000 Brussels TVA BE0123456789 "
            f"Date {fr(invoice.invoice_date)} Devise EUR Commande client {invoice.sale_order.name} "
            "Description Quantité Unité Prix unitaire Taxe Montant Assistance à distance") in text
    assert (f"Date Agent Ticket Description Durée {fr(days_ago(2))} Alice Martin #{ticket.pk} Imprimante en panne "
            "Diagnostic 1:30") in text
    assert ("Note de crédit pour les entrées cochées Cochez les feuilles de temps à créditer ; confirmer la note "
            "de crédit les rend de nouveau à facturer. Montant hors taxes 202,50 € Taxe 0 % sur 202,50 € 0,00 € "
            "Total 202,50 €") in text
    assert (f"Paiement Non payé Date d'échéance {fr(invoice.due_date)} Référence du paiement "
            f"{invoice.payment_reference} Payé 0,00 € Solde 202,50 € Date Mode Référence Par Montant "
            "Aucun paiement enregistré. Enregistrer un paiement Date Montant Mode Virement bancaire") in text
    assert "Rappels Aucun rappel envoyé. Historique Quand Qui Quoi" in text


def test_a_payment_typed_in_french(accountant, invoice):
    """An accountant types amounts as French writes them; the balance is offered the same way."""
    client = french(accountant)
    page = client.get(reverse("invoice_detail", args=[invoice.pk])).content.decode()
    assert 'name="payment-amount" value="202,50"' in page
    response = client.post(reverse("payment_register", args=[invoice.pk]), {
        "payment-date": invoice.invoice_date.isoformat(), "payment-amount": "100,00",
        "payment-method": "transfer", "payment-reference": "Extrait 12"}, follow=True)
    assert plain(text_of(response.content.decode())).count(
        f"Paiement de 100,00 € enregistré sur {invoice.number} : partiellement réglé, 102,50 € restant à régler.") == 1
    refused = client.post(reverse("payment_register", args=[invoice.pk]), {
        "payment-date": invoice.invoice_date.isoformat(), "payment-amount": "cent",
        "payment-method": "transfer"})
    assert refused.status_code == 400
    assert f"cent n'est pas un montant{NB}: par exemple 120,50." in text_of(refused.content.decode())


def test_to_approve(manager, ticket, logged):
    text = read(french(manager), "to_approve")
    assert "À approuver 2" in text
    assert "Équipe Toutes les équipes Agent Tous les agents Client Tous les clients Du Au Filtrer" in text
    monday = week_start(days_ago(2))
    assert (f"Alice Martin 2:15 Semaine du {monday:%d/%m/%Y} (semaine {monday.isocalendar()[1]})") in text
    assert "Total (2 feuilles de temps) 2:15 Approuver Motif du rejet Rejeter Cochez les feuilles de temps" in text


def test_the_reports_index(accountant):
    text = read(french(accountant), "reports")
    assert ("Rapports Temps Où le temps est allé : temps facturable, non facturable et offert, facturé et à "
            "facturer.").replace(" : ", f"{NB}: ") in text
    assert "Prestations non facturées" in text and "Revenus" in text and "Lignes prépayées" in text


def test_a_refusal_and_a_message_in_french(agent, manager, ticket):
    client = french(agent)
    response = client.get(reverse("to_approve"))
    assert response.status_code == 403
    assert "Seuls les managers sont autorisés à approuver ou rejeter des feuilles de temps." in text_of(
        response.content.decode())
    response = client.post(reverse("ticket_status", args=[ticket.pk]), {"status": "in_progress"}, follow=True)
    assert f"#{ticket.pk} Imprimante en panne est en cours." in text_of(response.content.decode())


def test_my_timesheets_cell_answers_in_french(agent, ticket):
    """The grid's script shows what the server answers: the saved cell's message, or its refusal."""
    client = french(agent)
    day, tomorrow = days_ago(1), days_ago(-1)
    saved = client.post(reverse("week_cell"), {"row": f"ticket-{ticket.pk}", "date": day.isoformat(),
                                               "duration": "1,5"})
    assert saved.json()["message"] == f"1:30 enregistré le {fr(day)}."
    refused = client.post(reverse("week_cell"), {"row": f"ticket-{ticket.pk}", "date": tomorrow.isoformat(),
                                                 "duration": "1:00"})
    assert refused.status_code == 409
    assert refused.json() == {"error": "Vous ne pouvez pas encoder de temps dans le futur."}
    page = client.get(reverse("my_timesheets")).content.decode()
    assert (f"data-text-no-answer=\"Le serveur n'a pas répondu{NB}: réessayez.\" "
            f"data-text-unreachable=\"Non enregistré{NB}: le serveur est injoignable. Réessayez.\"") in page


def test_the_searchable_selects_speak_french(agent, ticket, logged):
    client = french(agent)
    page = client.get(reverse("ticket_detail", args=[ticket.pk])).content.decode()
    assert 'data-text-more="Plus…" data-text-none="Aucun résultat" data-text-search="Tapez pour rechercher"' in page
    answer = client.get(reverse("lookup_ticket_sale_lines", args=[ticket.pk])).json()
    assert [row["text"] for row in answer["results"]] == [
        f"{ticket.sale_line.order.name} · Assistance à distance · 2,25{NB}h livrées"]


def test_the_language_choice_is_saved_and_kept(agent, ticket):
    client = Client()
    client.force_login(agent)
    response = client.post(reverse("language_choose"), {"language": "fr", "next": reverse("ticket_list")})
    assert response.status_code == 302 and response["Location"] == reverse("ticket_list")
    assert response.cookies["django_language"].value == "fr"
    assert "Nouveau ticket" in read(client, "ticket_list")
    assert client.post(reverse("language_choose"), {"language": "de"}).content.decode() == (
        "Choisissez l'anglais ou le français.")


def test_a_saved_language_wins_over_the_browsers(agent, ticket):
    language_save(user=agent, language="fr")
    client = Client()  # no Accept-Language: English, but for the user's own choice
    client.force_login(agent)
    assert "Nouveau ticket" in read(client, "ticket_list")
    language_save(user=agent, language="en")
    assert "New ticket" in read(client, "ticket_list")


def test_english_stays_english(agent, ticket, logged):
    client = Client()
    client.force_login(agent)
    text = read(client, "ticket_detail", ticket.pk)
    assert f"{days_ago(2).isoformat()} Alice Martin Diagnostic 1:30" in text
    assert "Total 2:15 Log time Date Duration Description Log time" in text


# --- Nothing left in English ----------------------------------------------------------------------------------

def english_texts() -> list[str]:
    """The screens' texts whose French differs, as they would appear on a page (placeholders are holes)."""
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f, locale="fr")
    texts, french = [], []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        french += strings
        for english in ids:
            if english in strings:
                continue
            for part in re.split(r"%\([a-z_]+\)s|\{[a-z_]+\}|<[^>]+>", english.replace("%%", "%")):
                texts.append(part.strip(" .,:;·()+"))
    # A piece French says as well ("Total" of "Total (2 timesheets)") is no sign of English.
    return sorted({text for text in texts if len(text) > 1 and not any(text in string for string in french)},
                  key=len, reverse=True)


@pytest.fixture
def run(team, agent, accountant):
    """A billing run of Garage Leroy's prepaid block, its invoice created and posted."""
    from invoicing.runs import run_post, run_start

    from ..jobs import run_jobs

    prepaid = ProductFactory(name="Forfait 10 heures", service_policy=ServicePolicy.ORDERED_PREPAID)
    block = confirmed_line(product=prepaid, order__customer__name="Garage Leroy", quantity=10)
    filed = ticket_create(team=team, customer=block.order.customer, sale_line=block, title="Réseau lent", actor=agent)
    timesheet_log(user=agent, date=days_ago(3), minutes=60, ticket=filed, description="Analyse")
    started = run_start(actor=accountant)
    run_jobs()
    run_post(run=started)
    run_jobs()
    return started


@pytest.fixture
def pages(agent, manager, accountant, ticket, invoice, run):
    """Every main screen, in French, as its main user reads it."""
    monday = week_start(days_ago(1))
    block = run.steps.get(kind="create").items.get().order.lines.get()
    return {
        "home": (accountant, "home", (), {}),
        "tickets": (agent, "ticket_list", (), {}),
        "ticket": (agent, "ticket_detail", (ticket.pk,), {}),
        "new ticket": (agent, "ticket_new", (), {}),
        "tasks": (agent, "task_list", (), {}),
        "my timesheets": (agent, "my_timesheets", (), {"week": monday.isoformat()}),
        "to approve": (manager, "to_approve", (), {}),
        "orders": (accountant, "order_list", (), {}),
        "order": (accountant, "order_detail", (invoice.sale_order_id,), {}),
        "quotation": (accountant, "quotation_create", (), {}),
        "to invoice": (accountant, "to_invoice", (), {}),
        "invoices": (accountant, "invoice_list", (), {}),
        "invoice": (accountant, "invoice_detail", (invoice.pk,), {}),
        "overdue": (accountant, "overdue_list", (), {}),
        "invoice preview": (accountant, "invoice_preview", (invoice.sale_order_id,), {}),
        "billing runs": (accountant, "billing_run_list", (), {}),
        "billing run": (accountant, "billing_run_detail", (run.pk,), {}),
        "reports": (accountant, "reports", (), {}),
        "time report": (accountant, "report_time", (), {}),
        "time entries": (accountant, "report_time_entries", (), {}),
        "unbilled work": (accountant, "report_unbilled", (), {}),
        "revenue": (accountant, "report_revenue", (), {}),
        "prepaid lines": (accountant, "report_prepaid", (), {}),
        "burn-down": (accountant, "report_prepaid_line", (block.pk,), {}),
        "time by agent and day": (accountant, "report_time", (), {"group_by": ["agent", "day"]}),
        "a wrong report": (accountant, "report_time", (), {"from": "2026-13-01"}),
        "manager's week of Alice": (manager, "my_timesheets", (), {"agent": agent.pk}),
    }


SAID = re.compile(r'\b(?:title|placeholder|aria-label|data-confirm|data-text-[a-z-]+)="([^"]*)"')


def english_left(client, name, args, query, texts) -> list[str]:
    """The texts of `texts` a page shows: in its text, and in what its attributes say (titles, placeholders,
    labels, confirmations, the scripts' words)."""
    response = client.get(reverse(name, args=args), query)
    assert response.status_code in (200, 400), (name, response.status_code)
    page = response.content.decode()
    said = squeeze(text_of(page) + " " + " ".join(html_lib.unescape(value) for value in SAID.findall(page)))
    return [english for english in texts if re.search(rf"(?<![\w-]){re.escape(english)}(?![\w-])", said)]


def test_no_text_of_the_screens_is_left_in_english(pages):
    texts = english_texts()
    left = {page: found for page, (user, name, args, query) in pages.items()
            if (found := english_left(french(user), name, args, query, texts))}
    assert left == {}


def test_the_same_pages_in_english_hold_those_texts(pages):
    """The check above sees English where there is some: every page read in English is caught by it."""
    texts = english_texts()
    english = {}
    for page, (user, name, args, query) in pages.items():
        client = Client()
        client.force_login(user)
        english[page] = bool(english_left(client, name, args, query, texts))
    assert english == dict.fromkeys(pages, True)

"""Issue 17: the admin in French (README, Languages): our actions, their messages, fieldsets, columns, filters and
help texts from backoffice/locale; Django's own admin from Django's catalogue; stored data as it was typed."""

import pytest
from django.urls import reverse
from django.utils import translation

from core.languages import language_save
from invoicing.models import Invoice
from sales.models import Company
from timesheets.services import timesheet_log

from ..factories import SaleOrderLineFactory, days_ago
from .test_admin import page_errors, redirected_with, url


@pytest.fixture
def french_manager(manager_client, manager):
    """The manager, who chose Français in the top bar: the admin follows them too."""
    language_save(user=manager, language="fr")
    return manager_client


def test_confirm_and_create_invoice_say_so_in_french(french_manager, agent, ticket, line_a):
    quotation = SaleOrderLineFactory().order
    confirm = {"action": "confirm", "_selected_action": [quotation.pk]}
    assert redirected_with(french_manager, url(quotation, "changelist"), confirm) == [
        f"La commande {quotation.name} est confirmée."]

    timesheet_log(user=agent, date=days_ago(0), minutes=90, ticket=ticket)
    order = line_a.order
    shown = redirected_with(french_manager, url(order, "changelist"),
                            {"action": "create_invoice", "_selected_action": [order.pk]})
    invoice = Invoice.objects.get()
    with translation.override("fr"):
        name = str(invoice)
    assert shown == [f'<a href="{url(invoice)}">{name}</a> créée pour {order.name}.']


def test_an_orders_page_reads_french(french_manager, agent, ticket, line_a):
    timesheet_log(user=agent, date=days_ago(0), minutes=90, ticket=ticket)
    response = french_manager.get(url(line_a.order))
    html = response.content.decode()
    [order_lines, *_] = response.context["inline_admin_formsets"]

    assert response["Content-Language"] == "fr"
    assert str(order_lines.opts.verbose_name_plural) == "Lignes de commande"
    assert '<option value="create_invoice">Créer une facture</option>' in html
    assert '<option value="confirm">Confirmer</option>' in html
    for column in ("Livré", "Facturé", "À facturer"):
        assert f"{column}\n" in html or f">{column}<" in html, column
    assert "Enregistrer" in html  # Django's own Save, from Django's catalogue


def test_the_companys_fieldsets_are_french(client, manager):
    client.force_login(manager)
    page = client.get(url(Company.current()), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Banque et conditions" in page and ">Factures<" in page


def test_time_entries_list_its_columns_and_filter_in_french(client, manager, agent, ticket):
    timesheet_log(user=agent, date=days_ago(0), minutes=90, ticket=ticket)
    client.force_login(manager)
    page = client.get(url(ticket.time_entries.get(), "changelist"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    for text in ("Durée", "Facturé", "Par facturé", "Non facturé"):
        assert text in page, text


def test_a_time_entry_on_nothing_is_refused_in_french(french_manager, manager):
    data = {"user": manager.pk, "date": days_ago(0).isoformat(), "minutes": "1:00"}
    response = french_manager.post(reverse("admin:timesheets_timeentry_add"), data)

    assert page_errors(response) == ["Enregistrez du temps sur un ticket ou sur une tâche."]

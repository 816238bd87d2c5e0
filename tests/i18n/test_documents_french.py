"""Issue 17, languages: what goes to a customer is written in its language (Customer.language), whoever asks
and wherever (a request, a job); what goes to a user in theirs; refusals and reports in the reader's.

A French customer's invoice lines (written when they are made), PDF and emails are French, with French dates
(02/12/2026), quantities (4,50) and amounts (1 234,62 €, as Babel writes them: a narrow no-break space
groups the thousands, a no-break space comes before the sign); an English customer's stay English whatever
the reader's language.
"""

import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import translation
from openpyxl import load_workbook
from pypdf import PdfReader

from core.errors import Conflict
from core.languages import language_save
from invoicing.mail import invoice_send_queue
from invoicing.models import Invoice, RunItem
from invoicing.payments import payment_register
from invoicing.pdf import invoice_pdf
from invoicing.reminders import reminders_send
from invoicing.runs import run_start
from invoicing.services import invoice_create_from_order, invoice_credit_note, invoice_post
from reports.alerts import alerts_scan, alerts_send
from reports.exports import report_csv, report_xlsx
from reports.time import time_params, time_report
from sales.models import Company
from timesheets.services import timesheet_log

from ..factories import TicketFactory, UserFactory, confirmed_line, days_ago
from ..jobs import run_jobs

NB, NNB = "\u00a0", "\u202f"  # a no-break space (before ":" and "€"), a narrow one (thousands)
TODAY = datetime.datetime(2026, 12, 2, 10, 0, tzinfo=datetime.UTC)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(autouse=True)
def bank(db):
    Company.objects.filter(pk=Company.current().pk).update(iban="BE68539007547034", bic="GKCCBEBB")


def posted_invoice(agent, *, language: str, name: str):
    """4:30 logged yesterday on a line at 274.36 an hour, invoiced and posted on 2026-12-02: 1,234.62."""
    with time_machine.travel(TODAY, tick=False):
        line = confirmed_line(quantity=50, price_unit=Decimal("274.36"), order__customer__name=name,
                              order__customer__language=language)
        ticket = TicketFactory(customer=line.order.customer, sale_line=line)
        timesheet_log(user=agent, date=datetime.date(2026, 12, 1), minutes=270, ticket=ticket,
                      description="Migrated the booking system")
        return invoice_post(invoice=invoice_create_from_order(order=line.order))


@pytest.fixture
def french(agent):
    return posted_invoice(agent, language="fr", name="Verdant Clinics")


@pytest.fixture
def english(agent):
    return posted_invoice(agent, language="", name="Acme Corporation")


def test_a_french_customers_invoice_line_is_explained_in_french_when_it_is_made(french):
    # Stored on the invoice (a document): written in the customer's language, whatever the reader's.
    with translation.override("en"):
        assert french.lines.get().explanation == "1 entrée, 4:30 prestées → 4:30 facturées"


def test_a_french_customers_pdf_is_french(french):
    with translation.override("en"):  # an English accountant, or a job (no request): the customer's language
        text = pdf_text(invoice_pdf(invoice=french))

    assert f"Facture {french.number}" in text
    assert "Adresse de facturation\nVerdant Clinics" in text
    assert "Date 02/12/2026" in text
    assert f"Commande client {french.sale_order.name}" in text
    assert "Date d'échéance 01/01/2027" in text
    assert "Conditions de paiement 30 jours après la date de facturation" in text
    assert "Description Quantité Unité Prix unitaire Taxe Montant" in text
    assert "1 entrée, 4:30 prestées → 4:30 facturées" in text
    assert f"4,50 heures 274,36{NB}€ 0{NB}% 1{NNB}234,62{NB}€" in text
    assert f"Montant hors taxes 1{NNB}234,62{NB}€" in text
    assert f"Total dû 1{NNB}234,62{NB}€" in text
    assert "Comment payer" in text and f"Référence {french.payment_reference}" in text
    assert "Feuilles de temps" in text
    assert "01/12/2026 agent" in text and "Migrated the booking system 4:30" in text
    assert "Sous-total (4:30 facturées) 4,50 heures" in text
    assert "Helpdesk Services SRL · TVA BE0403019261 Page 1 sur 2" in text
    assert "Invoice" not in text and "Due date" not in text and "2026-12-02" not in text


def test_an_english_customers_pdf_stays_english_for_a_french_reader(english):
    with translation.override("fr"):
        text = pdf_text(invoice_pdf(invoice=english))

    assert f"Invoice {english.number}" in text
    assert "Date 2026-12-02" in text and "Due date 2027-01-01" in text
    assert "Payment terms 30 days after the invoice date" in text
    assert "1 entry, 4:30 worked → 4:30 billed" in text
    assert "4.50 hours €274.36 0% €1,234.62" in text
    assert "Total due €1,234.62" in text
    assert "Subtotal (4:30 billed) 4.50 hours" in text
    assert "Page 1 of 2" in text
    assert "Facture" not in text


def test_a_french_customers_invoice_email_is_french(french, accountant):
    with translation.override("en"):
        invoice_send_queue(invoice=french, actor=accountant)
    run_jobs()  # the job has no request, no language of its own

    [message] = mail.outbox
    assert message.subject == f"Facture {french.number} de Helpdesk Services SRL"
    assert message.body.splitlines() == [
        "Bonjour Verdant Clinics,",
        "",
        f"Veuillez trouver ci-joint notre facture {french.number} du 02/12/2026 d'un montant de 1{NNB}234,62{NB}€ "
        f"(commande client {french.sale_order.name}), payable au plus tard le 01/01/2027. Veuillez mentionner la "
        f"référence {french.payment_reference} lors de votre paiement sur le compte BE68 5390 0754 7034. Le temps "
        f"facturé est détaillé, entrée par entrée, dans son annexe «{NB}Feuilles de temps{NB}».",
        "",
        "Pour toute question à ce sujet, répondez à ce message.",
        "",
        "Cordialement,",
        "Helpdesk Services SRL",
        "billing@example.com"]


def test_a_french_customers_credit_note_and_draft_are_french(french, accountant):
    with time_machine.travel(TODAY, tick=False):
        note = invoice_post(invoice=invoice_credit_note(invoice=french))
    with translation.override("en"):
        text = pdf_text(invoice_pdf(invoice=note))
        invoice_send_queue(invoice=note, actor=accountant)
    run_jobs()

    assert f"Note de crédit {note.number}" in text
    assert f"Corrige facture {french.number} du 02/12/2026" in text
    assert f"Total crédité 1{NNB}234,62{NB}€" in text and "Remboursement dû" in text
    assert note.lines.get().explanation == "crédite 1 entrée, 4:30 prestées → 4:30 créditées"
    [message] = mail.outbox
    assert message.subject == f"Note de crédit {note.number} de Helpdesk Services SRL"
    assert message.body.splitlines()[2] == (
        f"Veuillez trouver ci-joint notre note de crédit {note.number} du 02/12/2026, d'un montant de "
        f"1{NNB}234,62{NB}€, qui corrige la facture {french.number}.")

    draft = invoice_create_from_order(order=french.sale_order)  # the note gave the time back
    with translation.override("en"):
        pages = [page.extract_text() for page in PdfReader(io.BytesIO(invoice_pdf(invoice=draft))).pages]
        assert str(draft) == f"Draft invoice #{draft.pk}"
    assert all("Brouillon" in page for page in pages)
    assert f"Facture en brouillon n°{NB}{draft.pk}" in pages[0] and "non comptabilisée" in pages[0]


def test_an_english_customers_invoice_email_stays_english_for_a_french_accountant(english, accountant):
    with translation.override("fr"):
        invoice_send_queue(invoice=english, actor=accountant)
    run_jobs()

    [message] = mail.outbox
    assert message.subject == f"Invoice {english.number} from Helpdesk Services SRL"
    assert message.body.startswith("Dear Acme Corporation,\n\nPlease find attached our invoice ")
    assert "of 2026-12-02 for €1,234.62" in message.body


def test_a_french_customers_reminder_is_french(french):
    with time_machine.travel(datetime.datetime(2027, 1, 8, 8, 0, tzinfo=datetime.UTC), tick=False):
        assert reminders_send() == 1  # 7 days after the due date

    [message] = mail.outbox
    assert message.subject == f"Rappel{NB}: la facture {french.number} de Helpdesk Services SRL est en retard"
    assert message.body.splitlines()[2:5] == [
        f"Notre facture {french.number} du 02/12/2026 d'un montant de 1{NNB}234,62{NB}€ était payable le "
        f"01/01/2027, il y a 7 jours. Il en reste 1{NNB}234,62{NB}€ à régler.",
        "",
        f"Veuillez la régler sur le compte BE68 5390 0754 7034 (GKCCBEBB) en mentionnant la référence "
        f"{french.payment_reference}. Si vous l'avez réglée ces derniers jours, merci, et ne tenez pas compte de "
        "ce message."]


def test_an_english_customers_reminder_says_one_day_in_the_singular(english):
    with time_machine.travel(datetime.datetime(2027, 1, 2, 8, 0, tzinfo=datetime.UTC), tick=False):
        Company.objects.filter(pk=Company.current().pk).update(reminder_days="1")
        assert reminders_send() == 1

    [message] = mail.outbox
    assert message.subject == f"Reminder: invoice {english.number} from Helpdesk Services SRL is overdue"
    assert (f"Our invoice {english.number} of 2026-12-02 for €1,234.62 was due on 2027-01-01, 1 day ago. "
            "€1,234.62 of it is still open.") in message.body
    assert ("Please pay it to BE68 5390 0754 7034 (GKCCBEBB), quoting "
            f"{english.payment_reference}. If you have paid it") in message.body


def test_refusals_are_in_the_readers_language(english):
    # The reader's language, not the customer's: the accountant reads the refusal.
    with translation.override("fr"), pytest.raises(Conflict) as refused:
        invoice_post(invoice=english)
    assert refused.value.messages == [
        f"{english.number} est déjà comptabilisée et ne peut pas être confirmée à nouveau."]

    with translation.override("fr"), pytest.raises(ValidationError) as refused:
        payment_register(invoice=english, amount=Decimal("2000.00"))
    assert refused.value.message_dict == {"amount": [
        f"Il reste 1{NNB}234,62{NB}€ à régler sur {english.number}{NB}: un paiement de 2{NNB}000,00{NB}€ "
        "dépasserait ce montant."]}

    with translation.override("en"), pytest.raises(Conflict) as refused:
        invoice_post(invoice=english)
    assert refused.value.messages == [f"{english.number} is posted and cannot be posted."]


def test_nothing_to_invoice_says_the_period_in_french(english):
    with translation.override("fr"), pytest.raises(ValidationError) as refused:
        invoice_create_from_order(order=english.sale_order, period_start=datetime.date(2026, 11, 1),
                                  period_end=datetime.date(2026, 11, 30))
    assert refused.value.messages == [
        f"Il n'y a rien à facturer sur {english.sale_order.name} pour les feuilles de temps du 01/11/2026 au "
        "30/11/2026."]


def test_report_columns_are_in_the_readers_language_and_the_csv_header_stays_english(manager, english):
    params = time_params({"from": "2026-11-30", "to": "2026-12-06", "group_by": "customer"})
    with translation.override("fr"):
        report = time_report(user=manager, params=params)
        labels = [str(column.label) for column in report.columns]
        csv = report_csv(report).decode()
        xlsx = report_xlsx(report)
    assert (report.title, labels) == ("Temps", ["Client", "Facturable", "Non facturable", "Offert", "Total",
                                                "Facturé", "À facturer", "Entrées"])
    assert csv.splitlines()[0] == "Customer,Billable,Non-billable,No charge,Total,Invoiced,To invoice,Entries"
    assert csv.splitlines()[-1].startswith("Total,")
    sheet = load_workbook(io.BytesIO(xlsx)).worksheets[0]
    assert (sheet.title, [cell.value for cell in sheet[1]][:2], sheet.cell(sheet.max_row, 1).value) == (
        "Temps", ["Client", "Facturable"], "Total")
    with translation.override("en"):
        assert [str(column.label) for column in report.columns][:2] == ["Customer", "Billable"]


def test_an_alert_goes_to_each_accountant_in_their_language(agent, django_capture_on_commit_callbacks):
    ann = UserFactory(username="ann", email="ann@example.com", role="Accountants")
    UserFactory(username="carl", email="carl@example.com", role="Accountants")
    language_save(user=ann, language="fr")
    line = confirmed_line(quantity=1)  # no accountant on the order: every accountant
    ticket = TicketFactory(customer=line.order.customer, sale_line=line)
    timesheet_log(user=agent, ticket=ticket, date=days_ago(1), minutes=75)
    with django_capture_on_commit_callbacks(execute=False):
        [alert] = alerts_scan()

    assert alerts_send() == 1
    by_address = {tuple(message.to): message for message in mail.outbox}
    assert sorted(by_address) == [("ann@example.com",), ("carl@example.com",)]
    french, english = by_address[("ann@example.com",)], by_address[("carl@example.com",)]
    assert french.subject == (f"Alerte de facturation{NB}: {line.order.name} – Service on Timesheet{NB}: le livré "
                              f"(1:15) a atteint 100{NB}% des 1:00 commandées.")
    assert french.body.splitlines()[0] == f"Le temps livré a franchi un seuil sur ces lignes de commande{NB}:"
    assert english.subject == (f"Billing alert: {line.order.name} – Service on Timesheet: Delivered 1:15 reached "
                               "100% of the 1:00 ordered.")
    alert.refresh_from_db()
    assert alert.emailed_to == "ann@example.com, carl@example.com"


def test_a_billing_runs_refusals_are_stored_in_the_language_of_who_started_it(english, accountant):
    language_save(user=accountant, language="fr")
    run = run_start(order_ids=[english.sale_order.pk], actor=accountant)  # billed in full already
    run_jobs()  # a job: no request, the language of the run's author

    [item] = RunItem.objects.filter(step__run=run)
    assert (item.state, item.reason) == ("refused", f"Il n'y a rien à facturer sur {english.sale_order.name}.")


@pytest.mark.django_db
def test_the_demos_verdant_clinics_reads_french():
    call_command("load_demo", stdout=io.StringIO())
    verdant = Invoice.objects.get(customer__name="Verdant Clinics")
    assert verdant.customer.language == "fr"
    assert verdant.lines.get().explanation == "20,00 sur 20,00 heures en commande (Prépayé/Prix fixe)"
    with translation.override("en"):
        text = pdf_text(invoice_pdf(invoice=verdant))
    assert f"Facture {verdant.number}" in text and f"Total dû 2{NNB}057,00{NB}€" in text
    others = Invoice.objects.exclude(customer__name="Verdant Clinics")
    assert {line.explanation.split(",")[0] for line in others[0].lines.all()} == {"1 entry"}

"""Issue 17 in Chromium, in French: a Belgian agent and accountant whose browsers ask for French (locale fr-BE, so
Accept-Language: fr-BE) log in, log time, file a ticket, fill their week with the keyboard, invoice and post, and read
every page in French with French dates and money; and a user switches to French with the top bar's FR button from an
English browser, which follows them after they log out and in (their saved language, core.languages).

On every page the walk also looks for English left over: a visible text (or a title, label or placeholder, read
aloud or shown on hover) that is an English message of our catalogues whose French differs, placeholders matching
anything. What it finds is listed with its page. Screenshots go to $SCREENSHOTS when it names a folder.
"""

import datetime
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.utils import timezone
from playwright.sync_api import expect

from core.roles import sync_groups
from invoicing.models import Invoice
from sales.models import ServicePolicy
from tickets.models import Ticket
from timesheets.models import TimeEntry
from timesheets.week import week_start

from ..browser import lookup_box, pick
from ..factories import (
    CustomerFactory,
    ProductFactory,
    TaxFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
    confirmed_line,
)
from ..web.test_content_security_policy import watch

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "secret-pass-123"  # UserFactory's
NBSP, NNBSP = "\u00a0", "\u202f"  # before a colon and a currency; grouping thousands, before ? ; !
CUSTOMER = "Brasserie du Lion"
FIRST_TICKET = "L'imprimante du deuxième étage imprime des pages blanches"
NEW_TICKET = "Le scanner de l'accueil ne s'allume plus"


def fr(day: datetime.date) -> str:
    """A date as French pages write it: 02/12/2026."""
    return day.strftime("%d/%m/%Y")


WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


# --- English left over ---------------------------------------------------------------------------------------

PLACEHOLDER = re.compile(r"\{[a-z_0-9]*\}|%\([a-z_0-9]+\)[sd]|%[sd]")
TAG = re.compile(r"<[^>]+>")


def _plain(text: str) -> str:
    return " ".join(TAG.sub("", text).split())


def _pattern(text: str) -> re.Pattern | None:
    """A message as a pattern of the text a page shows: its tags dropped, each placeholder anything."""
    parts = [part.replace("%%", "%") for part in PLACEHOLDER.split(_plain(text))]
    if sum(character.isalpha() for character in "".join(parts)) < 4:
        return None  # "{rate}%", "#{number}": nothing English in it
    return re.compile(".+?".join(re.escape(part) for part in parts), re.DOTALL)


def english_messages() -> tuple[dict[str, str], list[tuple[re.Pattern, re.Pattern | None, str]]]:
    """The English messages of every catalogue whose French differs: plain ones by text, and those with
    placeholders as (English pattern, French pattern, msgid)."""
    plain, patterns = {}, []
    for path in sorted(ROOT.glob("*/locale/fr/LC_MESSAGES/django.po")) + [ROOT / "locale/fr/LC_MESSAGES/django.po"]:
        with path.open("rb") as f:
            catalogue = read_po(f, locale="fr")
        for message in catalogue:
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for english, french in ((ids[0], strings[0]), (ids[-1], strings[-1])):
                if _plain(english) == _plain(french or ""):
                    continue
                if PLACEHOLDER.search(english):
                    if (pattern := _pattern(english)) is not None:
                        patterns.append((pattern, _pattern(french) if french else None, english))
                elif _plain(english):
                    plain[_plain(english)] = english
    return plain, patterns


SHOWN = """() => {
  const texts = [];
  const add = (text) => { text = (text || "").replace(/\\s+/g, " ").trim(); if (text) texts.push(text); };
  const shown = (element) => element && element.checkVisibility({visibilityProperty: true});
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    if (shown(parent) && !parent.closest("script, style, template")) add(walker.currentNode.textContent);
  }
  for (const element of document.body.querySelectorAll("*")) {
    if (!shown(element)) continue;
    if (element instanceof HTMLElement && element.children.length && element.innerText.length < 300) {
      add(element.innerText);
    }
    for (const name of ["title", "aria-label", "placeholder", "alt"]) add(element.getAttribute(name));
    if (element.matches("input[type=submit], input[type=button]")) add(element.value);
  }
  document.title.split(" · ").forEach(add);
  return [...new Set(texts)];
}"""


class Survey:
    """Each page's English left over, as (page, text)."""

    def __init__(self):
        self.plain, self.patterns = english_messages()
        self.found: list[tuple[str, str]] = []

    def english(self, text: str) -> bool:
        if text in self.plain:
            return True
        return any(english.fullmatch(text) and not (french and french.fullmatch(text))
                   for english, french, _ in self.patterns)

    def __call__(self, page, name: str) -> None:
        """Look for English on `page` (called `name` in the list), and save its screenshot if asked to."""
        page.wait_for_load_state()
        self.found += [(name, text) for text in page.evaluate(SHOWN) if self.english(text)]
        folder = os.environ.get("SCREENSHOTS")
        if folder:
            page.screenshot(path=f"{folder}/french-{name.replace(' ', '-')}.png", full_page=True)


@pytest.fixture
def survey(request):
    found = Survey()
    yield found
    if found.found:  # shown with a failure, whichever assertion failed first
        print("English left over:\n" + "\n".join(f"  {page}: {text!r}" for page, text in found.found))


# --- Browsers -------------------------------------------------------------------------------------------------

@pytest.fixture
def browse(request, browser, live_server, artifacts):
    """Return `open(locale)`: a page of a browser context of its own whose language is `locale` (its
    Accept-Language); a failed test leaves screenshots of every page in `artifacts`."""
    contexts = []

    def open_page(locale: str):
        context = browser.new_context(base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        return page

    yield open_page
    report = getattr(request.node, "report_call", None)
    for n, context in enumerate(contexts):
        if report is None or report.failed:
            for m, page in enumerate(context.pages):
                stem = artifacts / f"{request.node.name}-{n}-{m}"
                try:
                    page.screenshot(path=f"{stem}.png", full_page=True)
                except Exception as error:  # a crashed page must not hide the test's own failure
                    print(f"could not save {stem}: {error}")
        context.close()


def nav(page, name: str):
    """The top bar's link `name` (the French main navigation's)."""
    return page.get_by_role("navigation", name="Principale").get_by_role("link", name=name, exact=True)


def log_in_french(page, user, survey=None):
    page.goto("/login/")
    expect(page).to_have_title("Se connecter · Facturation de l'assistance")
    expect(page.get_by_role("heading", name="Se connecter")).to_be_visible()
    if survey is not None:
        survey(page, "login")
    page.get_by_label("Nom d’utilisateur").fill(user.username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lambda url: "/login/" not in url)


# --- The walk -------------------------------------------------------------------------------------------------

@pytest.fixture
def brussels(db):
    """A French-speaking customer's confirmed order for 450,00 €/h of support, a team billing it, its agent with a
    ticket on the order, and the accountant."""
    sync_groups()  # a live server's test flushes the database: the role groups come back
    customer = CustomerFactory(name=CUSTOMER, language="fr")
    product = ProductFactory(name="Assistance sur site", list_price=Decimal("450.00"), tax=TaxFactory(name="TVA 21"),
                             service_policy=ServicePolicy.DELIVERED_TIMESHEET)
    line = confirmed_line(order__customer=customer, product=product, tax=product.tax, quantity=Decimal("40.00"))
    team = TeamFactory(name="Support Bruxelles")
    agent = UserFactory(username="amelie", first_name="Amélie", last_name="Dupont", role="Agents")
    team.members.add(agent)
    accountant = UserFactory(username="bruno", first_name="Bruno", last_name="Lambert", role="Accountants",
                             is_staff=True)
    ticket = TicketFactory(team=team, customer=customer, title=FIRST_TICKET, sale_line=line, assignee=agent)
    return line, ticket, agent, accountant


def test_a_french_agent_and_accountant_walk_through_in_french(browse, survey, brussels):
    line, ticket, agent, accountant = brussels
    order = line.order
    today = timezone.localdate()
    monday = week_start(today - datetime.timedelta(days=7))  # last week: every day of it is past
    days = [monday + datetime.timedelta(days=n) for n in range(7)]

    # The agent's browser asks for French: the login page is French before anyone signs in.
    desk = browse("fr-BE")
    complaints = watch(desk)
    log_in_french(desk, agent, survey)
    expect(desk.locator("html")).to_have_attribute("lang", "fr")
    survey(desk, "overview")

    # Tickets, then the ticket, whose Timesheets tab logs time with its form.
    nav(desk, "Tickets").click()
    expect(desk.get_by_role("heading", level=1)).to_have_text("Tickets 1")
    survey(desk, "tickets")
    desk.get_by_role("link", name=FIRST_TICKET).click()
    expect(desk.get_by_role("tab", name="Feuilles de temps")).to_be_visible()
    expect(desk.locator("#ticket-status")).to_have_text("Nouveau")
    survey(desk, "ticket")
    form = desk.locator("#log-time")
    expect(form.get_by_role("heading")).to_have_text("Enregistrer le temps")
    form.get_by_label("Durée").fill("1:30")
    form.get_by_label("Description").fill("Diagnostic du pilote d'impression")
    form.get_by_role("button", name="Enregistrer le temps").click()
    expect(desk.locator(".msg.success")).to_have_text(f"1:30 enregistré le {fr(today)}.")
    expect(desk.locator("#timesheets-total")).to_have_text("1:30")
    expect(desk.locator("#timesheets-table tbody tr td.date")).to_have_text(fr(today))
    survey(desk, "ticket with its time")

    # A new ticket, filed through the searchable selects.
    nav(desk, "Tickets").click()
    desk.get_by_role("link", name="Nouveau ticket").click()
    expect(desk.get_by_role("heading", name="Nouveau ticket")).to_be_visible()
    expect(lookup_box(desk, "Équipe")).to_have_value("Support Bruxelles")
    survey(desk, "new ticket")
    pick(desk, "Client", "lion", CUSTOMER)
    desk.get_by_label("Titre").fill(NEW_TICKET)
    desk.get_by_label("Description", exact=True).fill("Il ne répond plus depuis la coupure de courant.")
    box = lookup_box(desk, "Article de la commande client")
    expect(box).to_be_enabled()
    box.fill(order.name)
    desk.get_by_role("option", name=re.compile(re.escape(order.name))).first.click()
    desk.get_by_role("button", name="Créer le ticket").click()
    filed = Ticket.objects.get(title=NEW_TICKET)
    expect(desk.locator(".msg.success")).to_have_text(f"Ticket #{filed.pk} créé.")
    assert (filed.customer_id, filed.sale_line_id, filed.assignee_id) == (order.customer_id, line.pk, agent.pk)
    survey(desk, "ticket filed")

    # My Timesheets: last week, the new ticket's row added and filled with the keyboard.
    nav(desk, "Mes feuilles de temps").click()
    expect(desk.get_by_role("heading", name="Mes feuilles de temps")).to_be_visible()
    desk.get_by_role("link", name="← Semaine précédente").click()
    expect(desk.locator("#week-label")).to_have_text(
        f"Semaine {monday.isocalendar().week}{NBSP}: du {fr(days[0])} au {fr(days[6])}")
    add = lookup_box(desk, "Ajouter un ticket")
    add.focus()
    desk.keyboard.type("scanner")
    expect(desk.get_by_role("option", name=f"{filed} · {CUSTOMER}")).to_be_visible()
    desk.keyboard.press("Enter")  # picks
    desk.keyboard.press("Enter")  # adds the row
    row = desk.locator(f"tr[data-row='ticket-{filed.pk}']")
    cell = {day: row.get_by_role("textbox", name=f"{filed}, {WEEKDAYS[n]} {fr(day)}") for n, day in enumerate(days)}
    expect(cell[days[0]]).to_be_focused()
    desk.keyboard.type("1:30")
    desk.keyboard.press("Tab")  # saves Monday's
    expect(cell[days[1]]).to_be_focused()
    # Saved before the next is typed: two saves at once can find the tests' in-memory SQLite locked (a 503).
    expect(desk.locator("#week-status")).to_have_text(f"1:30 enregistré le {fr(days[0])}.")
    desk.keyboard.type("45m")
    desk.keyboard.press("Enter")  # saves
    expect(desk.locator("#week-status")).to_have_text(f"0:45 enregistré le {fr(days[1])}.")
    expect(cell[days[0]]).to_have_value("1:30")
    expect(cell[days[1]]).to_have_value("0:45")
    expect(row.locator("[data-total=row]")).to_have_text("2:15")
    expect(desk.locator(f"tfoot [data-total=day][data-date='{days[1]}']")).to_have_text("0:45")
    expect(desk.locator("#week-total")).to_have_text("2:15")
    expect(desk.locator("#week-status")).to_have_text(f"0:45 enregistré le {fr(days[1])}.")
    survey(desk, "my timesheets")
    assert sorted(TimeEntry.objects.filter(ticket=filed).values_list("date", "minutes")) == [
        (days[0], 90), (days[1], 45)]

    # The accountant, in French too, invoices the order: 3:45 at 450,00 €, 21 % VAT.
    books = browse("fr-BE")
    complaints += watch(books)
    log_in_french(books, accountant)
    nav(books, "Commandes clients").click()
    expect(books.get_by_role("heading", level=1)).to_contain_text("Commandes clients")
    survey(books, "sales orders")
    books.get_by_role("link", name=order.name).click()
    expect(books.get_by_role("heading", level=1)).to_contain_text(f"Commande client {order.name}")
    expect(books.locator("[data-col=delivered]")).to_have_text("3,75 h")
    survey(books, "sales order")
    books.locator("#create-invoice").get_by_role("button", name="Créer une facture").click()

    invoice = Invoice.objects.get()
    expect(books.locator("#invoice-state")).to_have_text("Brouillon")
    expect(books.locator("#invoice-lines")).to_contain_text("Diagnostic du pilote d'impression")
    expect(books.locator("#invoice-lines [data-col=quantity]")).to_have_text("3,75")
    expect(books.locator("#invoice-lines")).to_contain_text(f"450,00{NBSP}€")
    expect(books.locator("#invoice-lines td.date")).to_have_text([fr(days[0]), fr(days[1]), fr(today)])
    expect(books.locator("#invoice-total")).to_have_text(f"2{NNBSP}041,88{NBSP}€")  # 1 687,50 + 354,38
    survey(books, "draft invoice")
    books.get_by_role("button", name="Confirmer").click()
    invoice.refresh_from_db()
    expect(books.locator("#invoice-state")).to_have_text("Comptabilisé")
    expect(books.get_by_role("heading", level=1)).to_contain_text(f"Facture {invoice.number}")
    expect(books.locator(".msg.success")).to_have_text(
        f"{invoice.number} confirmée{NBSP}: elle ne peut plus être modifiée.")
    expect(books.locator("dd", has_text=fr(today)).first).to_be_visible()  # its date
    survey(books, "posted invoice")
    assert (invoice.state, invoice.amount_total) == ("posted", Decimal("2041.88"))

    assert complaints == []
    assert survey.found == []


def test_the_fr_button_switches_to_french_for_good(browse, survey, brussels):
    """From an English browser: FR in the top bar; French follows the agent after logging out and in again."""
    _, _, agent, _ = brussels
    page = browse("en-US")
    page.goto("/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Username").fill(agent.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="My Timesheets")).to_be_visible()
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "true")

    page.get_by_role("form", name="Language").get_by_role("button", name="Français").click()
    expect(page.get_by_role("link", name="Mes feuilles de temps")).to_be_visible()
    expect(page.get_by_role("button", name="Français")).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_role("form", name="Langue")).to_be_visible()
    survey(page, "overview after FR")

    # Logged out, and the browser's cookies gone: the login page is the browser's English again...
    page.get_by_role("button", name="Se déconnecter").click()
    page.context.clear_cookies()
    page.goto("/login/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Username").fill(agent.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # ... and once signed in, the agent's own choice: French.
    expect(page.get_by_role("link", name="Mes feuilles de temps")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "fr")

    # EN takes them back to English, for good too.
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("link", name="My Timesheets")).to_be_visible()
    assert survey.found == []

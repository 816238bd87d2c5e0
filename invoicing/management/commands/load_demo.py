"""Load the demo: the seed's flow, from a ticket to a sales order line whose Delivered shows hours.

Everything with a service is created through it, so the demo is built by the
same rules as real data. Loading twice changes nothing: the user `admin` marks
a loaded demo.

Acme's order S00001 shows DESIGN Rules 13 and 14 too: the senior agent's time bills its "Senior support"
line at 120.00 (a rate by agent), rounded per ticket to 15 minutes with a 30-minute minimum on the invoice,
and a "Goodwill" entry rides along at 0.00.

The receivable (issue 14): the company with its bank account and reminder steps, and three posted invoices
of two more customers, billed in full already (they stay out of To Invoice): Brasserie Lambic's first paid
in full (217.80), its second partly (100.00 of 326.70), and Dupont Transports' overdue (163.35, due 15 days
ago at 15-day terms) with its 7-day reminder sent.

Reports and alerts (issue 15): Initech's 8-hour line has 8:45 logged over three months, none of it invoiced
(aged 0-30, 31-60, 61-90 and over 90 days), past 100% Delivered; Verdant Clinics' prepaid block of 20 h,
invoiced two months ago and paid (2,057.00), has 15:30 used by two agents over seven weeks, below its 5-hour
alert, with internal (non-billable) and goodwill (no charge) time beside it. The demo accountant looks
after both orders; the worker's first sweep raises their two alerts.

Languages (issue 17): Verdant Clinics reads French (Customer.language): its invoice's lines, its PDF and the
emails it is sent are French; every other customer's are English.

The customer portal (issue 18): Acme's contact Wile E. Coyote (`contact@acme.example`), invited by the manager,
has set their password; Customer Care accepts portal tickets and holds disputed time. On the printers ticket the
contact acknowledged the agent's first 1:30 and disputes the 0:45 "Checked with the customer, documented the
fix" (held: Acme's Delivered is 3.50 h, not 4.25 h, until an accountant resolves it), and asked a question the
agent answered in its Messages. Verdant Clinics' contact Camille Verdier (`contact@verdant.example`, the portal
in French, their saved language) follows the prepaid block's hours left and burn-down, and the paid invoice.
"""

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from core.models import Preferences
from invoicing.models import Invoice, Payment
from invoicing.payments import balances_refresh, payment_register
from invoicing.reminders import reminders_send
from invoicing.services import invoice_create_from_order, invoice_post
from projects.models import Project
from projects.services import project_save, task_create
from sales.contacts import contact_invite, contact_set_password, link_path
from sales.models import Company, Customer, Product, Rounding, SaleOrder, SaleOrderLine, ServicePolicy, Tax, WorkType
from sales.services import company_save, customer_save, product_save, sale_order_confirm, work_type_save
from sales.units import HOUR
from tickets.models import HelpdeskTeam, Ticket
from tickets.services import (
    team_save,
    ticket_create,
    ticket_link_task,
    ticket_message_add,
    ticket_set_sale_line,
    ticket_set_status,
)
from timesheets.approval import timesheets_reject
from timesheets.disputes import entry_acknowledge, entry_dispute
from timesheets.durations import format_minutes, parse_duration
from timesheets.rates import order_rates_set
from timesheets.services import timesheet_log

URL = "http://127.0.0.1:8000/"
MARKER = "admin"

# (username, role shown, group, is_staff, is_superuser); password: username + "-demo-2026".
USERS = [
    ("agent", "Agents, member of Customer Care and Field Services", "Agents", False, False),
    ("senior", "Agents, Customer Care, billed as Senior support", "Agents", False, False),
    ("manager", "Managers, staff", "Managers", True, False),
    ("accountant", "Accountants, staff", "Accountants", True, False),
    ("admin", "superuser", None, True, True),
]

# Acme's contact on the customer portal (issue 18): (username and email, name, what the list of users says).
CONTACT = ("contact@acme.example", "Wile E. Coyote", "Acme's contact, customer portal (/portal/)")
# Verdant Clinics' contact reads the portal in French: its prepaid block's burn-down, its paid invoice.
VERDANT_CONTACT = ("contact@verdant.example", "Camille Verdier", "Verdant's contact, customer portal, French")
# The password of each demo contact: demo_password(its key).
CONTACT_PASSWORDS = {CONTACT[0]: "contact", VERDANT_CONTACT[0]: "verdant"}

# Work types (Rule 13): Remote support is the teams' default.
WORK_TYPES = [("Remote support", WorkType.Billing.BILLABLE), ("On-site", WorkType.Billing.BILLABLE),
              ("Internal", WorkType.Billing.NON_BILLABLE), ("Goodwill", WorkType.Billing.NO_CHARGE)]


def demo_password(username: str) -> str:
    return f"{username}-demo-2026"


def days_ago(n: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=n)


class Command(BaseCommand):
    help = "Load demo users and a ticket billed to a confirmed sales order, with time logged. Safe to run twice."

    def handle(self, *args, **options):
        User = get_user_model()
        with transaction.atomic():
            if User.objects.filter(username=MARKER).exists():
                self.stdout.write(f"Demo data already present (user {MARKER!r} exists): nothing changed.")
            else:
                self.load()
        self.print_users()

    def load(self):
        users = {name: self.create_user(name, group, staff, superuser)
                 for name, _, group, staff, superuser in USERS}
        agent, senior = users["agent"], users["senior"]
        kinds = {name: work_type_save(work_type=WorkType(name=name, billing=billing), actor=users["manager"])
                 for name, billing in WORK_TYPES}

        tax = Tax.objects.create(name="VAT 21%", rate=Decimal("21.00"))
        product = product_save(product=Product(
            name="Service on Timesheet", list_price=Decimal("90.00"), uom=HOUR,
            service_policy=ServicePolicy.DELIVERED_TIMESHEET, tax=tax,
        ))
        # Rounded per ticket on the invoice: a ticket's time in 15-minute blocks, at least half an hour.
        senior_product = product_save(product=Product(
            name="Senior support", list_price=Decimal("120.00"), uom=HOUR,
            service_policy=ServicePolicy.DELIVERED_TIMESHEET, tax=tax, rounding=Rounding.TICKET,
            billing_increment_minutes=15, minimum_minutes=30,
        ))
        manager = users["manager"]
        self.load_company(manager)
        acme = customer_save(customer=Customer(
            name="Acme Corporation", email="info@acme.example", billing_email="billing@acme.example",
            address="Avenue Louise 54\n1050 Brussels", country="BE", vat_number="BE0477472701",
        ), actor=manager)
        globex = customer_save(customer=Customer(
            name="Globex Logistics", email="accounts@globex.example",
            address="Keizersgracht 100\n1015 CV Amsterdam", country="NL", vat_number="NL004495445B01",
        ), actor=manager)

        # Configuration: a Billable project, and a team logging and reinvoicing time on it.
        project = project_save(project=Project(name="Customer Care", billable=True))
        team = team_save(team=HelpdeskTeam(
            name="Customer Care", timesheet_on_ticket=True, project=project, time_reinvoicing=True,
            default_work_type=kinds["Remote support"], portal_tickets=True, hold_disputed=True,
        ))
        team.members.add(agent, senior)

        # A ticket comes in; the agent works it on the ticket and on its task.
        task = task_create(project=project, name="Restore printing on the 3rd floor")
        ticket = ticket_create(
            team=team, customer=acme, title="Printers on the 3rd floor print blank pages",
            description="Since Monday's update every job comes out blank.", assignee=agent, actor=agent,
        )
        ticket = ticket_link_task(ticket=ticket, task=task)
        ticket = ticket_set_status(ticket=ticket, status=Ticket.Status.IN_PROGRESS, actor=agent)
        timesheet_log(user=agent, date=days_ago(3), minutes=parse_duration("1:30"), ticket=ticket,
                      description="Reproduced the issue, collected printer logs")

        # Sales: a quotation with the Service on Timesheet product and Senior support, confirmed.
        order = SaleOrder.objects.create(customer=acme)
        line, senior_line = (SaleOrderLine(order=order, product=p, name=p.name, quantity=quantity, uom=p.uom,
                                           price_unit=p.list_price, tax=p.tax)
                             for p, quantity in ((product, Decimal("50.00")), (senior_product, Decimal("10.00"))))
        for item in (line, senior_line):
            item.full_clean()
            item.save()
        order = sale_order_confirm(order=order)
        line.refresh_from_db()  # drops the cached quotation: the line now belongs to a confirmed order
        senior_line.refresh_from_db()
        # Rates by agent: the senior agent's time on this order bills Senior support.
        order_rates_set(order=order, agent_rates=[{"user": senior, "sale_line": senior_line}],
                        actor=users["manager"])

        # Linking the ticket to the Sales Order Item bills the time already logged on it.
        ticket = ticket_set_sale_line(ticket=ticket, sale_line=line)
        timesheet_log(user=agent, date=days_ago(2), minutes=parse_duration("2:00"), ticket=ticket,
                      description="Rolled back the driver, tested every tray")
        timesheet_log(user=senior, date=days_ago(2), minutes=parse_duration("0:20"), ticket=ticket,
                      description="Escalation: confirmed the rollback is safe for the whole fleet")
        timesheet_log(user=agent, date=days_ago(1), minutes=parse_duration("0:45"), task=task,
                      description="Checked with the customer, documented the fix")
        timesheet_log(user=agent, date=days_ago(1), minutes=parse_duration("0:15"), ticket=ticket,
                      work_type=kinds["Goodwill"], description="Showed the office manager how to clear a stuck job")

        # A second ticket, just in: no sales order yet, no time.
        ticket_create(team=team, customer=globex, title="VPN disconnects every hour",
                      description="Remote staff lose the VPN about once an hour.", actor=agent)

        # A second customer with support time to bill: with Acme's, the month-end billing run
        # (To Invoice) has two orders to invoice.
        initech = customer_save(customer=Customer(
            name="Initech", email="ap@initech.example", address="4120 Freidrich Lane\nAustin, TX 78744",
            country="US"), actor=manager)
        initech_order = SaleOrder.objects.create(customer=initech, accountant=users["accountant"])
        SaleOrderLine.objects.create(order=initech_order, product=product, name=product.name,
                                     quantity=Decimal("8.00"), uom=product.uom, price_unit=product.list_price,
                                     tax=product.tax)
        initech_line = sale_order_confirm(order=initech_order).lines.get()
        mail = ticket_create(team=team, customer=initech, title="Mailboxes hit their quota every Friday",
                             description="Archiving stopped in October.", assignee=agent, actor=agent)
        mail = ticket_set_sale_line(ticket=mail, sale_line=initech_line)
        timesheet_log(user=agent, date=days_ago(4), minutes=parse_duration("1:15"), ticket=mail,
                      description="Found the archiving job disabled since the October upgrade")
        timesheet_log(user=agent, date=days_ago(2), minutes=parse_duration("1:00"), ticket=mail,
                      description="Re-enabled archiving, moved 2019 mail to the archive")
        # Older time, never invoiced: the Unbilled work report ages it; the 8-hour line is past 100% Delivered.
        for days, duration, text in ((100, "1:30", "Sized the mail archive for the quota"),
                                     (70, "2:00", "Set up the archiving job"),
                                     (45, "3:00", "Trained the office on the archive search")):
            timesheet_log(user=agent, date=days_ago(days), minutes=parse_duration(duration), ticket=mail,
                          description=text)

        self.load_portal(users, acme, ticket)
        self.load_field_services(users, product, globex, kinds)
        self.load_receivables(users, product, team)
        self.load_prepaid(users, tax, team, kinds)
        # Initech's line past 100% Delivered and Verdant's block below 5 hours left raise their alerts at the
        # worker's first sweep (reports.alerts.alerts_scan), which `make run` starts beside the server: this
        # app lies below reports and does not call it.

        line.refresh_from_db()
        senior_line.refresh_from_db()
        self.stdout.write(self.style.SUCCESS(
            f"Demo data loaded: {order.name} for {acme}, ticket {ticket} with "
            f"{format_minutes(sum(ticket.time_entries.values_list('minutes', flat=True)))} logged; Delivered "
            f"{line.delivered} h of {line.quantity} h of {line.name}, {senior_line.delivered} h of {senior_line.name}."
        ))

    def load_portal(self, users, customer, ticket):
        """Acme's contact, joined: they acknowledged the first 1:30 of the printers ticket, dispute the 0:45 check
        (held out of Delivered until resolved), and asked about the 2nd floor, which the agent answered."""
        contact = self.joined_contact(users, customer, CONTACT)
        entries = {entry.description: entry for entry in ticket.time_entries.all()}
        entry_acknowledge(entry=entries["Reproduced the issue, collected printer logs"], contact=contact)
        entry_dispute(entry=entries["Checked with the customer, documented the fix"], contact=contact,
                      reason="The check-in call took 15 minutes, not 45: please bill the call only.")
        ticket_message_add(ticket=ticket, author=contact.user,
                           body="Are the printers on the 2nd floor affected too? They had the same update.")
        ticket_message_add(ticket=ticket, author=users["agent"],
                           body="No: the 2nd floor's printers use the older driver, which the update left alone. "
                                "We printed a test page on each of them this morning.")

    def joined_contact(self, users, customer, who, language: str = ""):
        """A contact of `customer` invited by the manager who has set their password (no invitation to print)."""
        email, name, _role = who
        contact = contact_invite(customer=customer, email=email, name=name, site=URL, actor=users["manager"],
                                 send=False)
        _portal, _password, uid, token = link_path(contact.user).strip("/").split("/")
        contact_set_password(uidb64=uid, token=token, password=demo_password(CONTACT_PASSWORDS[email]))
        if language:
            Preferences.objects.create(user=contact.user, language=language)
        return contact

    def load_field_services(self, users, product, customer, kinds):
        """A team on "Approved timesheets only": its time counts once the manager approves it, so Globex's
        line shows 3:30 awaiting approval and nothing to invoice yet; travel time was rejected."""
        agent, manager = users["agent"], users["manager"]
        project = project_save(project=Project(name="Field Services", billable=True))
        team = team_save(team=HelpdeskTeam(
            name="Field Services", timesheet_on_ticket=True, project=project, time_reinvoicing=True,
            invoiced_timesheets=HelpdeskTeam.Invoicing.APPROVED, default_work_type=kinds["Remote support"]))
        team.members.add(agent)
        order = SaleOrder.objects.create(customer=customer)
        SaleOrderLine.objects.create(order=order, product=product, name="On-site support", quantity=Decimal("30.00"),
                                     uom=product.uom, price_unit=product.list_price, tax=product.tax)
        line = sale_order_confirm(order=order).lines.get()
        ticket = ticket_create(team=team, customer=customer, title="Warehouse scanners drop off the Wi-Fi",
                               description="Hand scanners lose the network in aisles 7 to 12.", assignee=agent,
                               actor=agent)
        ticket = ticket_set_sale_line(ticket=ticket, sale_line=line)
        for days, duration, text in ((3, "2:00", "On site: surveyed the warehouse Wi-Fi"),
                                     (2, "1:30", "Replaced two access points in aisle 9"),
                                     (1, "0:30", "Drove back to the office")):
            entry = timesheet_log(user=agent, date=days_ago(days), minutes=parse_duration(duration), ticket=ticket,
                                  description=text, work_type=kinds["On-site"], actor=agent)
        timesheets_reject(ids=[entry.pk], reason="Travel is not billed to Globex: log it on an internal task.",
                          actor=manager)

    def load_company(self, manager):
        """The company on every invoice: its VAT number, bank account, terms and reminder steps."""
        company = Company.current()
        for name, value in (("name", "Helpdesk Services SRL"), ("address", "12 Rue de la Loi\n1000 Brussels"),
                            ("country", "BE"), ("vat_number", "BE0403019261"), ("email", "billing@example.com"),
                            ("iban", "BE68 5390 0754 7034"), ("bic", "GEBABEBB"), ("currency", "EUR"),
                            ("payment_terms_days", 30), ("reminder_days", "7, 21"),
                            ("invoice_footer", "Helpdesk Services SRL · RPR Brussels · Payment by bank transfer to "
                                               "BE68 5390 0754 7034 quoting the structured reference.")):
            setattr(company, name, value)
        company_save(company=company, actor=manager)

    def load_receivables(self, users, product, team):
        """Three posted invoices of two customers: one paid in full, one partly, one overdue and reminded."""
        agent, accountant, manager = users["agent"], users["accountant"], users["manager"]
        lambic = customer_save(customer=Customer(
            name="Brasserie Lambic", email="info@lambic.example", billing_email="factures@lambic.example",
            address="Rue Gheude 56\n1070 Anderlecht", country="BE", vat_number="BE0202239951"), actor=manager)
        dupont = customer_save(customer=Customer(
            name="Dupont Transports", email="contact@dupont.example", billing_email="compta@dupont.example",
            address="8 Rue de la République\n69002 Lyon", country="FR", vat_number="FR40303265045",
            payment_terms_days=15), actor=manager)
        tills = self.billed_ticket(team, lambic, product, agent, "The tills lose the card terminal",
                                   [(12, "2:00", "Re-paired the card terminals with the tills")])
        timesheet_log(user=agent, date=days_ago(4), minutes=parse_duration("3:00"), ticket=tills,
                      description="Replaced the router of the bar, moved the tills to their own network")
        order = tills.sale_line.order
        paid = invoice_post(invoice=invoice_create_from_order(order=order, period_end=days_ago(10), actor=accountant),
                            actor=accountant)
        partly = invoice_post(invoice=invoice_create_from_order(order=order, actor=accountant), actor=accountant)
        routes = self.billed_ticket(team, dupont, product, agent, "The route planner crashes on start",
                                    [(33, "1:30", "Reinstalled the route planner, restored its maps")])
        late = invoice_post(invoice=invoice_create_from_order(order=routes.sale_line.order, actor=accountant),
                            actor=accountant)
        # Posted a month ago: its 15-day terms ran out 15 days ago. (Posting always dates an invoice today.)
        Invoice.objects.filter(pk=late.pk).update(invoice_date=days_ago(30), due_date=days_ago(15))
        balances_refresh(invoice=late)
        for invoice, amount in ((paid, "217.80"), (partly, "100.00")):
            invoice.refresh_from_db()
            payment_register(invoice=invoice, amount=Decimal(amount), method=Payment.Method.BANK_TRANSFER,
                             reference=invoice.payment_reference, actor=accountant)
        reminders_send()  # Dupont's 7-day reminder: one email

    def load_prepaid(self, users, tax, team, kinds):
        """A prepaid block of 20 h, invoiced and paid two months ago, used week after week by two agents."""
        agent, senior, accountant = users["agent"], users["senior"], users["accountant"]
        block = product_save(product=Product(
            name="Prepaid support block", list_price=Decimal("85.00"), uom=HOUR,
            service_policy=ServicePolicy.ORDERED_PREPAID, tax=tax, alert_remaining_hours=Decimal("5.00"),
        ), actor=users["manager"])
        verdant = customer_save(customer=Customer(
            name="Verdant Clinics", email="it@verdant.example", billing_email="accounts@verdant.example",
            address="Rue Belliard 20\n1040 Brussels", country="BE", language="fr"), actor=users["manager"])
        order = SaleOrder.objects.create(customer=verdant, accountant=accountant)
        SaleOrderLine.objects.create(order=order, product=block, name="Prepaid support, 20 hours",
                                     quantity=Decimal("20.00"), uom=block.uom, price_unit=block.list_price, tax=tax)
        line = sale_order_confirm(order=order).lines.get()
        # Billed when sold: posted two months ago at 30-day terms, paid.
        invoice = invoice_post(invoice=invoice_create_from_order(order=order, actor=accountant), actor=accountant)
        Invoice.objects.filter(pk=invoice.pk).update(invoice_date=days_ago(60), due_date=days_ago(30))
        balances_refresh(invoice=invoice)
        invoice.refresh_from_db()
        payment_register(invoice=invoice, amount=invoice.amount_total, date=days_ago(40),
                         method=Payment.Method.BANK_TRANSFER, reference=invoice.payment_reference, actor=accountant)
        ticket = ticket_create(team=team, customer=verdant, title="Move the clinics to the new booking system",
                               description="Six clinics, one weekend each.", assignee=senior, actor=senior)
        ticket = ticket_set_sale_line(ticket=ticket, sale_line=line)
        for days, user, duration, text in (
                (48, senior, "2:00", "Planned the migration with the clinics' managers"),
                (41, agent, "2:30", "Migrated the first clinic"), (34, senior, "3:00", "Migrated clinics 2 and 3"),
                (27, agent, "1:30", "Fixed the reminders of clinic 2"), (20, senior, "2:00", "Migrated clinic 4"),
                (13, agent, "2:30", "Migrated clinic 5"), (6, senior, "1:00", "Checked the backups"),
                (2, agent, "1:00", "Migrated clinic 6")):
            timesheet_log(user=user, date=days_ago(days), minutes=parse_duration(duration), ticket=ticket,
                          description=text)
        timesheet_log(user=senior, date=days_ago(10), minutes=parse_duration("1:00"), ticket=ticket,
                      work_type=kinds["Internal"], description="Wrote our own migration checklist")
        timesheet_log(user=agent, date=days_ago(13), minutes=parse_duration("0:30"), ticket=ticket,
                      work_type=kinds["Goodwill"], description="Showed the receptionist the new calendar")
        self.joined_contact(users, verdant, VERDANT_CONTACT, language="fr")

    def billed_ticket(self, team, customer, product, agent, title, entries):
        """A confirmed order of `product` for `customer`, and a ticket billed to it with `entries` logged."""
        order = SaleOrder.objects.create(customer=customer)
        SaleOrderLine.objects.create(order=order, product=product, name=product.name, quantity=Decimal("10.00"),
                                     uom=product.uom, price_unit=product.list_price, tax=product.tax)
        line = sale_order_confirm(order=order).lines.get()
        ticket = ticket_create(team=team, customer=customer, title=title, assignee=agent, actor=agent)
        ticket = ticket_set_sale_line(ticket=ticket, sale_line=line)
        for days, duration, text in entries:
            timesheet_log(user=agent, date=days_ago(days), minutes=parse_duration(duration), ticket=ticket,
                          description=text)
        return ticket

    def create_user(self, username, group, is_staff, is_superuser):
        user = get_user_model()(username=username, email=f"{username}@example.com",
                                is_staff=is_staff, is_superuser=is_superuser)
        password = demo_password(username)
        validate_password(password, user)
        user.set_password(password)
        user.save()
        if group:
            user.groups.add(Group.objects.get(name=group))
        return user

    def print_users(self):
        names = [name for name, *_ in USERS]
        contacts = [(email, role, demo_password(CONTACT_PASSWORDS[email])) for email, _name, role in
                    (CONTACT, VERDANT_CONTACT)]
        users = get_user_model().objects.in_bulk([*names, *(email for email, *_ in contacts)],
                                                 field_name="username")
        self.stdout.write("Demo users:")
        rows = [(name, role, demo_password(name)) for name, role, *_ in USERS] + contacts
        width = max(len(username) for username, *_ in rows)
        for username, role, password in rows:
            user = users.get(username)
            if user is None:
                shown = "(missing)"
            elif user.check_password(password):
                shown = password
            else:
                shown = "(changed since the demo was loaded)"
            self.stdout.write(f"  {username:<{width}} {role:<50} {shown}")
        self.stdout.write(f"Open {URL} and sign in; managers configure teams and products at {URL}admin/; "
                          f"customers' contacts sign in to the customer portal at {URL}portal/.")

"""The objects every measurement looks at, the same in both data sets, made through the app's services.

They belong to one "Probe Customer" and one "Probe team", so a page shows the same rows at
both sizes and only the data around it grows. The big line (line 1, from the generator)
is the one exception: it carries 10% of each data set.
"""

import datetime
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.authtoken.models import Token

from invoicing.services import invoice_create_from_order, invoice_credit_note, invoice_post
from projects.models import Project
from sales.models import Customer, Product, SaleOrder, SaleOrderLine
from sales.services import sale_order_confirm, sale_order_save_quotation
from tickets.models import HelpdeskTeam, Ticket
from tickets.services import team_save, ticket_create
from timesheets.delivered import sale_lines_recompute
from timesheets.models import TimeEntry


@dataclass(frozen=True)
class Probes:
    agent: int
    manager: int
    accountant: int
    agent_token: str
    page_ticket: int  # 20 entries, 12 of them invoiced
    order_20_lines: int
    invoice_1000: int  # posted, bills 1,000 entries, 10 given back by a posted credit note
    invoice_2000: int  # posted, bills 2,000 entries: the PDF
    invoice_100: int  # posted, bills 100 entries: the stored PDF's download at the other end
    light_line: int  # 10 entries
    light_ticket: int
    big_line: int
    big_ticket: int
    big_entries: int  # on the big line, none invoiced
    load_tickets: tuple[int, ...]  # one per line: the load test's 8 agents


def _user(username: str, role: str):
    user = get_user_model().objects.create(username=username, first_name="Bench", last_name=role.rstrip("s"),
                                           password="!", is_staff=role != "Agents")
    user.groups.add(Group.objects.get(name=role))
    return user


def _order(customer, product, lines: int) -> tuple[SaleOrder, list[SaleOrderLine]]:
    order = SaleOrder(customer=customer)
    items = [SaleOrderLine(product=product, name=f"Support hours, site {n + 1}", quantity=100, uom="hour",
                           price_unit=90, tax=product.tax) for n in range(lines)]
    sale_order_save_quotation(order=order, lines=items)
    order = sale_order_confirm(order=order)
    return order, list(order.lines.select_related("order", "product").order_by("pk"))


def _log(tickets: list[Ticket], per_ticket: int, agent, today: datetime.date, days: int) -> None:
    """Log `per_ticket` entries on each ticket over the last `days` days (set-based, then recomputed)."""
    entries = [
        TimeEntry(date=today - datetime.timedelta(days=(n * days) // per_ticket), user=agent,
                  description=f"Diagnosed and fixed issue {n + 1} of {ticket.title}", minutes=15 + (n * 7) % 60,
                  billable_minutes=15 + (n * 7) % 60, project=ticket.team.project, ticket=ticket,
                  sale_line=ticket.sale_line)
        for ticket in tickets for n in range(per_ticket)
    ]
    TimeEntry.objects.bulk_create(entries, batch_size=2000)
    sale_lines_recompute(line_ids={ticket.sale_line_id for ticket in tickets})  # bulk_create sends no signal


def build() -> Probes:
    """Create the probe objects in the `default` database."""
    today = timezone.localdate()
    agent, manager, accountant = _user("bench-agent", "Agents"), _user("bench-manager", "Managers"), \
        _user("bench-accountant", "Accountants")
    customer = Customer.objects.create(name="Probe Customer", email="billing@probe.example",
                                       address="1 Probe Street\n1000 Brussels", vat_number="BE0111222333")
    product = Product.objects.select_related("tax").get(pk=1)
    team = team_save(team=HelpdeskTeam(name="Probe team", timesheet_on_ticket=True, time_reinvoicing=True,
                                       project=Project.objects.create(name="Probe support", billable=True)))
    team.members.add(agent)
    big_ticket = Ticket.objects.select_related("team").get(pk=1)
    big_ticket.team.members.add(agent)  # the agent logs time on the big line too

    def tickets(lines, per_line=1):
        return [ticket_create(team=team, customer=customer, title=f"Probe ticket {line.pk}-{n}", sale_line=line,
                              description="A probe of the benchmark.", assignee=agent)
                for line in lines for n in range(per_line)]

    order_20, lines_20 = _order(customer, product, 20)
    on_20 = tickets(lines_20)
    _log(on_20[:1], 20, agent, today, 60)
    _log(on_20[1:], 5, agent, today, 60)
    invoice_post(invoice=invoice_create_from_order(order=order_20, period_end=today - datetime.timedelta(days=25)))

    light_order, [light_line] = _order(customer, product, 1)
    [light_ticket] = tickets([light_line])
    _log([light_ticket], 10, agent, today, 10)

    order_1000, [line_1000] = _order(customer, product, 1)
    _log(tickets([line_1000], 10), 100, agent, today, 200)
    invoice_1000 = invoice_post(invoice=invoice_create_from_order(order=order_1000))
    given_back = TimeEntry.objects.filter(sale_line=line_1000).order_by("pk").values_list("pk", flat=True)[:10]
    invoice_post(invoice=invoice_credit_note(invoice=invoice_1000, entry_ids=list(given_back)))

    load_order, load_lines = _order(customer, product, 8)
    load_tickets = tickets(load_lines)

    order_2000, [line_2000] = _order(customer, product, 1)
    _log(tickets([line_2000], 20), 100, agent, today, 200)
    invoice_2000 = invoice_post(invoice=invoice_create_from_order(order=order_2000))

    order_100, [line_100] = _order(customer, product, 1)
    _log(tickets([line_100]), 100, agent, today, 60)
    invoice_100 = invoice_post(invoice=invoice_create_from_order(order=order_100))

    return Probes(
        agent=agent.pk, manager=manager.pk, accountant=accountant.pk,
        agent_token=Token.objects.create(user=agent).key,
        page_ticket=on_20[0].pk, order_20_lines=order_20.pk, invoice_1000=invoice_1000.pk,
        invoice_2000=invoice_2000.pk, invoice_100=invoice_100.pk, light_line=light_line.pk,
        light_ticket=light_ticket.pk,
        big_line=big_ticket.sale_line_id, big_ticket=big_ticket.pk,
        big_entries=TimeEntry.objects.filter(sale_line_id=big_ticket.sale_line_id).count(),
        load_tickets=tuple(ticket.pk for ticket in load_tickets),
    )

"""Ticket search (tickets.selectors.tickets_search, issue 16): the title, the description, the customer's name
and the number, whatever the case, the text taken literally; never a ticket the user may not see. On
PostgreSQL, each condition is read from an index (the trigram indexes of migrations sales 0005, tickets
0004, timesheets 0008 and invoicing 0011) and PostgreSQL ORs them instead of reading every ticket."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.limits import SEARCH_LENGTH
from tickets.models import Ticket
from tickets.selectors import tickets_for, tickets_search

from ..factories import CustomerFactory, TeamFactory, TicketFactory, UserFactory


@pytest.fixture
def desk(db):
    """Four tickets of one team: two customers, one word in a title, one in a description, wildcard characters."""
    team = TeamFactory(name="First line")
    acme, globex = CustomerFactory(name="Acme Corp"), CustomerFactory(name="Globex")
    return {
        "toner": TicketFactory(team=team, customer=acme, title="Toner smears the page"),
        "vpn": TicketFactory(team=team, customer=globex, title="VPN drops",
                             description="Since the TONER delivery the office VPN drops hourly"),
        "percent": TicketFactory(team=team, customer=acme, title="Disk 100% full"),
        "wild": TicketFactory(team=team, customer=acme, title=r"Path C:\temp_dir is read-only"),
    }


def found(text: str, tickets=None) -> list[str]:
    tickets = Ticket.objects.all() if tickets is None else tickets
    return [ticket.title for ticket in tickets_search(tickets, text).order_by("pk")]


def test_search_looks_in_the_title_description_customer_and_number(desk):
    assert found("toner") == ["Toner smears the page", "VPN drops"]  # the title, then the description
    assert found("globex") == ["VPN drops"]
    assert found("ACME") == ["Toner smears the page", "Disk 100% full", r"Path C:\temp_dir is read-only"]
    assert found(f"#{desk['vpn'].pk}") == ["VPN drops"]
    assert found(f" {desk['percent'].pk} ") == ["Disk 100% full"]
    assert found("nothing like it") == []


def test_a_number_is_also_a_word(desk):
    """A ticket's number that is also a word of another ticket's title: both are found; "#" asks the number only."""
    numbered = TicketFactory(team=desk["toner"].team, customer=desk["toner"].customer, title="Printer offline")
    n = numbered.pk  # ids run on across tests: the other title is made to hold this one
    Ticket.objects.filter(pk=desk["percent"].pk).update(title=f"Disk {n}% full")

    assert sorted(found(str(n))) == [f"Disk {n}% full", "Printer offline"]
    assert found(f"#{n}") == ["Printer offline"]


def test_wildcard_characters_are_taken_literally(desk):
    assert found("%") == ["Disk 100% full"]
    assert found("100%") == ["Disk 100% full"]
    assert found("_") == [r"Path C:\temp_dir is read-only"]
    assert found("t_mp") == []  # "_" is no single-character wildcard: "temp" does not match
    assert found("\\") == [r"Path C:\temp_dir is read-only"]
    assert found(r"C:\temp") == [r"Path C:\temp_dir is read-only"]


def test_hostile_text_is_cleaned_not_refused(desk):
    assert found("ton\x00er") == ["Toner smears the page", "VPN drops"]  # PostgreSQL refuses NUL in text
    assert found("\x00") == found("") == found("   ") == [t.title for t in Ticket.objects.order_by("pk")]
    assert found("x" * 100_000) == []  # cut to SEARCH_LENGTH: SQLite refuses patterns over 50,000 bytes
    assert found("Toner smears the page" + " " * SEARCH_LENGTH + "x") == ["Toner smears the page"]
    assert found("#" + "9" * 40) == []  # past the largest id: a word, not a number


def test_search_never_widens_what_a_user_sees(desk, agent):
    """An agent of another team finds none of this team's tickets, whatever they search for."""
    outsider = UserFactory(username="outsider", role="Agents")
    TeamFactory(name="Other team").members.add(outsider)
    desk["toner"].team.members.add(agent)
    ticket = desk["vpn"]

    for text in ("toner", "globex", f"#{ticket.pk}", str(ticket.pk), "%", "_", ""):
        assert found(text, tickets_for(user=outsider)) == []
    assert found("globex", tickets_for(user=agent)) == ["VPN drops"]


def test_the_ticket_list_searches_through_the_selector(client, desk, agent):
    """The screen's `q`, and for an agent of another team the same search finds nothing."""
    desk["toner"].team.members.add(agent)
    outsider = UserFactory(username="outsider", role="Agents")
    TeamFactory(name="Other team").members.add(outsider)

    def listed(user, q):
        client.force_login(user)
        response = client.get(reverse("ticket_list"), {"q": q})
        assert response.status_code == 200
        return [ticket.title for ticket in response.context["page_obj"]]

    assert listed(agent, "TONER") == ["VPN drops", "Toner smears the page"]
    assert listed(agent, "100%") == ["Disk 100% full"]
    client.force_login(agent)
    refused = client.get(reverse("ticket_list"), {"q": "ton\x00er"})  # the form says so, nothing is sent
    assert refused.context["form"].errors == {"q": ["Null characters are not allowed."]}
    assert listed(outsider, "TONER") == listed(outsider, "globex") == []


def _list_queries(client, q: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("ticket_list"), {"q": q})
        assert response.status_code == 200
    return len(captured)


def test_a_search_sends_as_many_queries_for_one_match_as_for_fifty(client, manager):
    """Session, user and roles; the filters' choices; the customers named like the text; the page's
    COUNT and rows (each ticket's hours a correlated sum in that one query)."""
    team, customer = TeamFactory(), CustomerFactory(name="Initech")
    TicketFactory(team=team, customer=customer, title="Fax eats paper")
    for n in range(50):
        TicketFactory(team=team, customer=customer, title=f"Toner {n} runs out")
    client.force_login(manager)

    one, fifty = _list_queries(client, "fax"), _list_queries(client, "toner")

    assert one == fifty


# --- PostgreSQL: the indexes, and plans that use them -------------------------------------

requires_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's trigram indexes")

# Each on the expression Django's icontains sends, UPPER(column::text) (a text column needs no cast).
INDEXES = {
    "customer_name_trgm": "sales_customer USING gin (upper((name)::text) gin_trgm_ops)",
    "order_name_trgm": "sales_saleorder USING gin (upper((name)::text) gin_trgm_ops)",
    "ticket_title_trgm": "tickets_ticket USING gin (upper((title)::text) gin_trgm_ops)",
    "ticket_description_trgm": "tickets_ticket USING gin (upper(description) gin_trgm_ops)",
    "entry_description_trgm": "timesheets_timeentry USING gin (upper((description)::text) gin_trgm_ops)",
    "invoice_number_trgm": "invoicing_invoice USING gin (upper((number)::text) gin_trgm_ops)",
    "invoice_customer_name_trgm": "invoicing_invoice USING gin (upper((customer_name)::text) gin_trgm_ops)",
}


@requires_postgres
def test_the_trigram_indexes_exist(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE '%%_trgm'")
        assert dict(cursor.fetchall()) == {name: f"CREATE INDEX {name} ON public.{definition}"
                                           for name, definition in INDEXES.items()}


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Tiny tables are read whole whatever the indexes: forbid that so the plan shows what large ones get.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET LOCAL enable_seqscan = on")
    return plan


@requires_postgres
def test_the_ticket_search_reads_the_indexes(desk):
    """A bitmap of each condition, ORed: no condition on the joined customer, no scan of every ticket."""
    acme = desk["toner"].customer
    searched = tickets_search(Ticket.objects.all(), "acme").order_by()

    plan = _plan(searched.values("pk"))
    for line in ("BitmapOr", "Bitmap Index Scan on ticket_title_trgm",
                 "Index Cond: (upper((title)::text) ~~ '%ACME%'::text)",
                 "Bitmap Index Scan on ticket_description_trgm", f"Index Cond: (customer_id = {acme.pk})"):
        assert line in plan, plan
    assert "Seq Scan" not in plan and "sales_customer" not in plan, plan

    numbered = _plan(tickets_search(Ticket.objects.all(), f"#{acme.pk}").order_by().values("pk"))
    assert "Bitmap Index Scan on tickets_ticket_pkey" in numbered and "Seq Scan" not in numbered, numbered

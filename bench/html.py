"""Issue 16: no page's HTML grows with the number of customers, agents, orders or lines (target 15).

The probe manager, who sees everything, opens each page once per data set. A searchable select holds its
chosen option only (web.forms.widgets.Lookup); the others are asked of /lookup/ as one types. Two kinds of
figure per page:

- the page as the probes see it, the same rows at both sizes: the ticket list and the Time and Unbilled
  reports filtered to the probe customer, the probe ticket's page (its Sales Order Item among the probe
  customer's lines), the probe order's page. Its bytes differ only by digits (ids and order numbers take
  more on large: ticket 110 on small is 50060 there): shown as they are, and judged with each number
  counted as one digit, equal;
- the default page's filter form (the ticket list, the Time report, Unbilled work), whose rows are the data
  set's: its bytes and its <option> elements, equal to the byte.
"""

import re

from django.contrib.auth import get_user_model
from django.test import Client

from sales.models import Customer

from . import db
from .measures import Figure
from .probes import Probes

FORMS = {"/tickets/": 'role="search"', "/reports/time/": 'id="report-form"', "/reports/unbilled/": 'id="report-form"'}


def _pages(probes: Probes, customer: int) -> list[tuple[str, str]]:
    return [
        ("Ticket list, the probe customer's tickets", f"/tickets/?customer={customer}"),
        ("The probe ticket's page (Sales Order Item)", f"/tickets/{probes.page_ticket}/"),
        ("The probe order's page, 20 lines", f"/orders/{probes.order_20_lines}/"),
        ("Time report, the probe customer", f"/reports/time/?customer={customer}"),
        ("Unbilled work, the probe customer", f"/reports/unbilled/?customer={customer}"),
    ]


def _form(html: str, marker: str) -> str:
    """The <form> of the page that holds `marker`."""
    start = html.rindex("<form", 0, html.index(marker))
    return html[start:html.index("</form>", start)]


def _csrf_free(html: str) -> str:
    """The page without its CSRF tokens: the same length each time, but not the same text."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken" value=""', html)


def html(probes: dict[str, Probes]) -> list[Figure]:
    aliases = list(probes)
    pages, forms = {}, {}
    for alias in aliases:
        with db.use(alias):
            client = Client()
            client.force_login(get_user_model().objects.get(pk=probes[alias].manager))
            customer = Customer.objects.get(name="Probe Customer").pk

            def get(address):
                response = client.get(address)
                assert response.status_code == 200, (address, response.status_code)
                return _csrf_free(response.content.decode())

            for label, address in _pages(probes[alias], customer):
                pages.setdefault(label, {})[alias] = get(address)
            for address, marker in FORMS.items():
                forms.setdefault(address, {})[alias] = _form(get(address), marker)
    figures = []
    for label, by_alias in pages.items():
        figures.append(Figure(15, f"{label}: bytes", {alias: len(text.encode()) for alias, text in by_alias.items()},
                              "B"))
        # Ids, order numbers and counts take more digits on large (ticket 110 there is 50060): each number
        # counted as one digit, the pages are the same length.
        sizes = {alias: len(re.sub(r"\d+", "0", text).encode()) for alias, text in by_alias.items()}
        figures.append(Figure(15, f"{label}: bytes, each number as one digit", sizes, "B", "equal",
                              len(set(sizes.values())) == 1, judged=aliases))
        figures.append(_options(f"{label}: <option> elements", by_alias, aliases))
    for address, by_alias in forms.items():
        sizes = {alias: len(text.encode()) for alias, text in by_alias.items()}
        figures.append(Figure(15, f"`{address}`'s filter form: bytes", sizes, "B", "equal",
                              len(set(sizes.values())) == 1, judged=aliases))
        figures.append(_options(f"`{address}`'s filter form: <option> elements", by_alias, aliases))
    return figures


def _options(label: str, by_alias: dict[str, str], aliases: list[str]) -> Figure:
    counts = {alias: text.count("<option") for alias, text in by_alias.items()}
    return Figure(15, label, counts, "", "equal", len(set(counts.values())) == 1, judged=aliases)

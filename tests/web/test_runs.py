"""The billing run's screens: To Invoice with its filters, Create Invoices, the run's page and its
progress bars, Post, Send by email, Resume; in Chromium from the first click to the emails sent."""

import datetime
import re

from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from playwright.sync_api import expect

from invoicing.models import BillingRun, Invoice, RunStep
from timesheets.services import timesheet_log

from ..factories import CustomerFactory, TicketFactory, confirmed_line, days_ago
from ..jobs import run_jobs
from .test_invoicing import messages_of


def orders(agent, *names):
    """A confirmed 90/h order per customer name, 1:30 logged 3 days ago and 0:45 yesterday on each."""
    lines = []
    for name in names:
        customer = CustomerFactory(name=name, email=f"billing@{name.lower()}.example")
        line = confirmed_line(price_unit=90, order__customer=customer)
        ticket = TicketFactory(customer=customer, sale_line=line)
        timesheet_log(user=agent, date=days_ago(3), minutes=90, ticket=ticket)
        timesheet_log(user=agent, date=days_ago(1), minutes=45, ticket=ticket)
        lines.append(line)
    return lines


def test_to_invoice_lists_the_orders_and_filters_them(accountant_client, agent):
    acme, globex = orders(agent, "Acme", "Globex")
    response = accountant_client.get(reverse("to_invoice"))
    html = response.content.decode()
    assert [row["order"] for row in response.context["page_obj"]] == [acme.order, globex.order]
    assert "Total, untaxed (2 orders)" in html and "405.00" in html  # 2 × 2:15 at 90
    # Up to two days ago: 1:30 each.
    response = accountant_client.get(reverse("to_invoice"), {"up_to": str(days_ago(2))})
    assert [row["amount"] for row in response.context["page_obj"]] == [135, 135]
    response = accountant_client.get(reverse("to_invoice"), {"customer": globex.order.customer_id})
    assert [row["order"] for row in response.context["page_obj"]] == [globex.order]
    # A date in the future, or not a date: said on the field, and every order still listed.
    for up_to, error in ((str(timezone.localdate() + datetime.timedelta(days=1)), "The period ends today"),
                         ("soon", "Enter a valid date.")):
        response = accountant_client.get(reverse("to_invoice"), {"up_to": up_to})
        assert response.status_code == 200 and error in response.content.decode()
        assert len(response.context["page_obj"]) == 2


def test_create_invoices_refuses_an_empty_choice_and_starts_nothing(accountant_client, agent):
    orders(agent, "Acme")
    response = accountant_client.post(reverse("billing_run_create"), {"scope": "ticked"}, follow=True)
    assert messages_of(response) == ["Tick the orders to invoice, or choose “Create Invoices for all”."]
    response = accountant_client.post(reverse("billing_run_create"), {"scope": "all", "up_to": "2001-01-01"},
                                      follow=True)
    assert messages_of(response) == ["There is nothing to invoice up to 2001-01-01."]
    response = accountant_client.post(reverse("billing_run_create"), {"scope": "ticked", "order": ["x", "2" * 30]},
                                      follow=True)
    assert messages_of(response) == ["Tick the orders to invoice, or choose “Create Invoices for all”."]
    assert not BillingRun.objects.exists()


def test_agents_get_the_403_page(agent_client, agent):
    orders(agent, "Acme")
    for name in ("to_invoice", "billing_run_list"):
        assert agent_client.get(reverse(name)).status_code == 403
    assert agent_client.post(reverse("billing_run_create"), {"scope": "all"}).status_code == 403
    assert not BillingRun.objects.exists()


def test_a_stalled_step_offers_resume(accountant_client, agent):
    orders(agent, "Acme")
    response = accountant_client.post(reverse("billing_run_create"), {"scope": "all"}, follow=True)
    run = BillingRun.objects.get()
    html = response.content.decode()
    assert '<meta http-equiv="refresh" content="2">' in html and "Resume</button>" not in html
    step = run.steps.get()
    RunStep.objects.filter(pk=step.pk).update(beat_at=timezone.now() - datetime.timedelta(minutes=5))
    DBTaskResult.objects.update(status="RUNNING")  # taken by a worker that died since
    html = accountant_client.get(reverse("billing_run_detail", args=[run.pk])).content.decode()
    assert "Stalled" in html and "Resume</button>" in html
    response = accountant_client.post(reverse("billing_run_resume", args=[run.pk, step.pk]), follow=True)
    assert messages_of(response) == ["Create Invoices resumed: another worker takes it from where it stopped."]
    run_jobs()
    html = accountant_client.get(reverse("billing_run_detail", args=[run.pk])).content.decode()
    assert "http-equiv" not in html  # done: the page stops refreshing
    assert Invoice.objects.count() == 1


def test_the_month_end_run_in_the_browser(open_browser, accountant, agent):
    """To Invoice → Create Invoices for all → the progress bar fills as the jobs run → Post → Send by email."""
    acme, globex = orders(agent, "Acme", "Globex")
    books = open_browser(accountant)
    books.get_by_role("link", name="To Invoice").click()
    expect(books.locator("#orders-to-invoice tbody tr[id^=order-]")).to_have_count(2)
    expect(books.locator("#orders-to-invoice tfoot")).to_contain_text("405.00")
    books.get_by_role("button", name="Create Invoices for all 2").click()

    expect(books.locator(".msg.success")).to_contain_text("started: its invoices are being created")
    progress = books.locator("#step-create progress")
    expect(progress).to_have_attribute("value", "0")
    expect(books.locator("[data-progress=create]")).to_have_text("0 / 2")
    assert run_jobs() == 2  # the workers' part; the page refreshes itself until it is done
    expect(books.locator("[data-progress=create]")).to_have_text("2 / 2", timeout=10_000)
    expect(progress).to_have_attribute("value", "2")
    expect(books.locator("#step-create .badge")).to_have_text("Done")
    expect(books.locator("#run-orders tbody tr")).to_have_count(2)
    expect(books.locator(f"#run-order-{acme.order_id}")).to_contain_text("202.50")
    expect(books.locator("#run-invoiced")).to_contain_text("2 invoices, ")

    books.get_by_role("button", name="Post").click()
    run_jobs()
    expect(books.locator("[data-progress=post]")).to_have_text("2 / 2", timeout=10_000)
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    year = timezone.localdate().year
    assert numbers == [f"INV/{year}/00001", f"INV/{year}/00002"]
    expect(books.locator(f"#run-order-{globex.order_id}")).to_contain_text(re.compile(rf"INV/{year}/0000[12]"))

    books.get_by_role("button", name="Send by email").click()
    run_jobs()
    expect(books.locator("[data-progress=send]")).to_have_text("2 / 2", timeout=10_000)
    expect(books.locator(f"#run-order-{acme.order_id}")).to_contain_text("Sent to billing@acme.example")
    assert sorted(message.to[0] for message in mail.outbox) == ["billing@acme.example", "billing@globex.example"]
    expect(books.get_by_role("button", name="Post")).to_have_count(0)
    # The run is listed, with its three steps done.
    books.get_by_role("link", name="Billing runs").click()
    expect(books.locator("#runs tbody tr")).to_have_count(1)
    expect(books.locator("#runs .badge.done")).to_have_count(3)

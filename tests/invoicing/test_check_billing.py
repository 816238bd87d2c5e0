import pytest
from django.core.management import CommandError, call_command

from invoicing.services import invoice_create_from_order
from sales.models import SaleOrderLine
from timesheets.models import TimeEntry
from timesheets.services import timesheet_log

from ..factories import days_ago


@pytest.fixture
def logged(agent, ticket, line_a):
    timesheet_log(user=agent, date=days_ago(1), minutes=90, ticket=ticket)
    invoice_create_from_order(order=line_a.order)
    timesheet_log(user=agent, date=days_ago(0), minutes=30, ticket=ticket)
    return line_a


def test_consistent_billing_passes(logged, capsys):
    call_command("check_billing")
    assert "Billing is consistent" in capsys.readouterr().out


def test_tampered_delivered_is_reported_with_its_line(logged, capsys):
    SaleOrderLine.objects.filter(pk=logged.pk).update(delivered_minutes=999)
    with pytest.raises(CommandError, match="1 billing figure"):
        call_command("check_billing")
    err = capsys.readouterr().err
    assert f"line {logged.pk} ({logged.order.name}): delivered_minutes stored 999, entries say 120" in err
    SaleOrderLine.objects.filter(pk=logged.pk).update(delivered_minutes=120)
    call_command("check_billing")


def test_tampered_entry_minutes_are_reported(logged):
    entry = TimeEntry.objects.filter(invoice_line__isnull=False).get()
    TimeEntry.objects.filter(pk=entry.pk).update(billable_minutes=100, minutes=100)  # behind the signals' back
    with pytest.raises(CommandError, match="3 billing figure"):
        call_command("check_billing")  # delivered, invoiced, and the invoice line's minutes
    TimeEntry.objects.filter(pk=entry.pk).update(billable_minutes=90, minutes=90)

"""Alerts (issue 15): a line's Delivered reaching its product's share of the ordered quantity, or a prepaid
line's remaining hours falling below its product's threshold. One alert per crossing, emailed once to the
order's accountant (else every accountant with an email), cleared when dealt with."""

from decimal import Decimal

import pytest
from django.core import mail
from django_tasks_db.models import DBTaskResult

from audit.models import AuditEvent
from core.errors import Conflict
from reports.alerts import NOBODY, alert_clear, alerts_scan, alerts_send, open_alerts
from reports.models import Alert
from reports.tasks import send_alerts
from sales.models import SaleOrderLine, ServicePolicy
from timesheets.services import timesheet_delete, timesheet_log

from ..factories import ProductFactory, TicketFactory, UserFactory, confirmed_line, days_ago
from ..jobs import run_jobs

A = AuditEvent.Action


def line_with_ticket(**kwargs):
    line = confirmed_line(**kwargs)
    return line, TicketFactory(customer=line.order.customer, sale_line=line)


def log(agent, ticket, minutes):
    return timesheet_log(user=agent, ticket=ticket, date=days_ago(1), minutes=minutes)


def set_quantity(line, quantity):
    # A confirmed order's lines stay as sold (sales.services): no service changes them. An upsell is
    # written here as the database would have it.
    SaleOrderLine.objects.filter(pk=line.pk).update(quantity=quantity)


def scan():
    return [(alert.sale_line_id, alert.kind) for alert in alerts_scan()]


@pytest.fixture
def small(db):
    """A 2-hour line (the product alerts at 100% by default) and a ticket billing it."""
    return line_with_ticket(quantity=2)


def test_a_line_crossing_100_percent_raises_exactly_one_alert(agent, small):
    line, ticket = small
    log(agent, ticket, 60)
    assert scan() == []
    log(agent, ticket, 59)
    assert scan() == []  # 1:59 of 2:00

    log(agent, ticket, 1)
    assert scan() == [(line.pk, "delivered")]
    [alert] = Alert.objects.all()
    assert (alert.delivered_minutes, alert.ordered_minutes, alert.threshold, alert.recipient) == (
        120, 120, Decimal("100.00"), None)
    assert alert.is_open and list(open_alerts()) == [alert]
    [event] = AuditEvent.objects.filter(action=A.ALERT_RAISED)
    assert (event.object_id, event.changes) == (line.order.pk, {
        "alert": alert.pk, "kind": "delivered", "sale_line": line.pk, "delivered_minutes": 120,
        "ordered_minutes": 120, "threshold": 100})

    assert scan() == []  # a second scan: still the same crossing
    log(agent, ticket, 30)
    assert scan() == []  # further over: still the same crossing
    assert Alert.objects.count() == 1 and not AuditEvent.objects.filter(action=A.ALERT_ENDED).exists()


def test_raising_the_ordered_quantity_ends_it_and_crossing_again_raises_a_new_one(agent, small):
    line, ticket = small
    log(agent, ticket, 120)
    [first] = alerts_scan()

    set_quantity(line, 3)
    assert scan() == []
    first.refresh_from_db()
    assert first.ended_at is not None and first.cleared_at is None and list(open_alerts()) == []
    [ended] = AuditEvent.objects.filter(action=A.ALERT_ENDED)
    assert ended.changes == {"alert": first.pk, "kind": "delivered", "sale_line": line.pk}
    assert scan() == []

    log(agent, ticket, 60)
    assert scan() == [(line.pk, "delivered")]
    second = Alert.objects.get(ended_at__isnull=True)
    assert second.pk != first.pk and (second.delivered_minutes, second.ordered_minutes) == (180, 180)
    assert list(open_alerts()) == [second]


def test_time_taken_away_ends_it_too(agent, small):
    line, ticket = small
    log(agent, ticket, 60)
    last = log(agent, ticket, 60)
    [alert] = alerts_scan()

    timesheet_delete(entry=last)
    assert scan() == []
    alert.refresh_from_db()
    assert alert.ended_at is not None


def test_dealt_with_stays_quiet_until_it_ends_and_crosses_again(agent, accountant, small):
    line, ticket = small
    log(agent, ticket, 120)
    [alert] = alerts_scan()

    cleared = alert_clear(alert_id=alert.pk, actor=accountant, note="  Called them: an upsell is coming  ")
    assert (cleared.cleared_by, cleared.note) == (accountant, "Called them: an upsell is coming")
    assert list(open_alerts()) == []
    [event] = AuditEvent.objects.filter(action=A.ALERT_CLEARED)
    assert (event.actor, event.object_id, event.changes) == (accountant, line.order.pk, {
        "alert": alert.pk, "kind": "delivered", "sale_line": line.pk, "note": "Called them: an upsell is coming"})
    log(agent, ticket, 60)
    assert scan() == [] and Alert.objects.count() == 1  # still over: quiet

    set_quantity(line, 4)
    assert scan() == []
    alert.refresh_from_db()
    assert alert.ended_at is not None and alert.cleared_at is not None
    log(agent, ticket, 60)
    assert scan() == [(line.pk, "delivered")]  # 4:00 of 4:00: a new crossing
    assert Alert.objects.count() == 2 and len(open_alerts()) == 1


def test_clearing_twice_or_an_ended_alert_is_refused(agent, accountant, manager, small):
    line, ticket = small
    log(agent, ticket, 120)
    [alert] = alerts_scan()
    alert_clear(alert_id=alert.pk, actor=manager)

    with pytest.raises(Conflict, match="This alert was already dealt with on "):
        alert_clear(alert_id=alert.pk, actor=accountant)
    assert AuditEvent.objects.filter(action=A.ALERT_CLEARED).count() == 1

    set_quantity(line, 1)  # 2:00 of 1:00, a new line's alert...
    other, other_ticket = line_with_ticket(quantity=1)
    log(agent, other_ticket, 60)
    [other_alert] = [a for a in alerts_scan() if a.sale_line_id == other.pk]
    set_quantity(other, 5)
    alerts_scan()  # ...ends when it is upsold
    with pytest.raises(Conflict, match="This alert has ended: the line is back under its threshold."):
        alert_clear(alert_id=other_alert.pk, actor=accountant)


def test_no_threshold_never_alerts(agent):
    line, ticket = line_with_ticket(quantity=1, product=ProductFactory(alert_delivered_percent=None))
    log(agent, ticket, 240)

    assert scan() == [] and not Alert.objects.exists()


def test_a_threshold_below_100_and_a_line_in_days(agent):
    warned = ProductFactory(alert_delivered_percent=80)
    line, ticket = line_with_ticket(quantity=2, product=warned)  # 2 h: alert at 96 minutes
    log(agent, ticket, 95)
    assert scan() == []
    log(agent, ticket, 1)
    assert scan() == [(line.pk, "delivered")]
    assert Alert.objects.get().threshold == Decimal("80.00")

    days = ProductFactory(uom="day", alert_delivered_percent=50)
    day_line, day_ticket = line_with_ticket(quantity=1, product=days)  # 1 day = 8 h: alert at 4 h
    log(agent, day_ticket, 239)
    assert scan() == []
    log(agent, day_ticket, 1)
    assert scan() == [(day_line.pk, "delivered")]
    assert Alert.objects.get(sale_line=day_line).ordered_minutes == 480


def test_a_prepaid_line_alerts_when_its_remaining_hours_fall_below_the_threshold(agent):
    prepaid = ProductFactory(service_policy=ServicePolicy.ORDERED_PREPAID, alert_remaining_hours=Decimal("2"),
                             alert_delivered_percent=None)
    line, ticket = line_with_ticket(quantity=10, product=prepaid)
    log(agent, ticket, 480)
    assert scan() == []  # 2:00 left: not below 2 hours

    log(agent, ticket, 1)
    assert scan() == [(line.pk, "remaining")]
    alert = Alert.objects.get()
    assert (alert.kind, alert.delivered_minutes, alert.ordered_minutes, alert.threshold) == (
        "remaining", 481, 600, Decimal("2.00"))
    assert scan() == []

    # The remaining-hours threshold is for prepaid lines only.
    postpaid = ProductFactory(alert_remaining_hours=Decimal("40"), alert_delivered_percent=None)
    _, other_ticket = line_with_ticket(quantity=10, product=postpaid)
    log(agent, other_ticket, 300)
    assert scan() == []


def test_a_prepaid_line_has_both_kinds(agent):
    prepaid = ProductFactory(service_policy=ServicePolicy.ORDERED_PREPAID, alert_remaining_hours=Decimal("1"))
    line, ticket = line_with_ticket(quantity=2, product=prepaid)
    log(agent, ticket, 61)
    assert scan() == [(line.pk, "remaining")]
    log(agent, ticket, 59)
    assert scan() == [(line.pk, "delivered")]
    assert sorted(open_alerts().values_list("kind", flat=True)) == ["delivered", "remaining"]


def test_the_email_goes_once_to_the_orders_accountant(agent, django_capture_on_commit_callbacks):
    ann = UserFactory(username="ann", email="ann@example.com", role="Accountants")
    UserFactory(username="carl", email="carl@example.com", role="Accountants")
    line, ticket = line_with_ticket(quantity=1, order__accountant=ann)
    log(agent, ticket, 75)

    with django_capture_on_commit_callbacks(execute=True):
        [alert] = alerts_scan()
    assert alert.recipient == ann
    assert [job.task_path for job in DBTaskResult.objects.filter(status="READY")] == [send_alerts.module_path]
    assert run_jobs() == 1
    assert run_jobs() == 0
    [message] = mail.outbox
    assert message.to == ["ann@example.com"]
    assert message.subject == (f"Billing alert: {line.order.name} – Service on Timesheet: Delivered 1:15 "
                               "reached 100% of the 1:00 ordered.")
    assert f"- {line.order.name} – Service on Timesheet: Delivered 1:15 reached 100%" in message.body
    alert.refresh_from_db()
    assert alert.emailed_to == "ann@example.com" and alert.emailed_at is not None

    # Sending again, or another scan, sends nothing more.
    assert alerts_send() == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert alerts_scan() == []
    run_jobs()
    assert len(mail.outbox) == 1


def test_without_an_accountant_on_the_order_every_accountant_with_an_email_gets_it(
        agent, accountant, django_capture_on_commit_callbacks):
    UserFactory(username="ann", email="ann@example.com", role="Accountants")
    UserFactory(username="carl", email="carl@example.com", role="Accountants")
    UserFactory(username="gone", email="gone@example.com", role="Accountants", is_active=False)
    UserFactory(username="mia", email="mia@example.com", role="Managers")
    first, first_ticket = line_with_ticket(quantity=1)
    second, second_ticket = line_with_ticket(quantity=1)
    log(agent, first_ticket, 60)
    log(agent, second_ticket, 90)

    with django_capture_on_commit_callbacks(execute=True):
        assert len(alerts_scan()) == 2
    run_jobs()
    run_jobs()

    [message] = mail.outbox  # one message for both alerts
    assert message.to == ["ann@example.com", "carl@example.com"]
    assert message.subject == "2 billing alerts"
    assert message.body.count("\n- ") == 2
    assert set(Alert.objects.values_list("emailed_to", flat=True)) == {"ann@example.com, carl@example.com"}


def test_nobody_to_email_is_recorded_and_nothing_is_sent(agent, accountant, small,
                                                          django_capture_on_commit_callbacks):
    line, ticket = small
    log(agent, ticket, 120)
    with django_capture_on_commit_callbacks(execute=True):
        alerts_scan()
    run_jobs()

    assert mail.outbox == []
    assert Alert.objects.get().emailed_to == NOBODY
    assert alerts_send() == 0


def test_an_alert_dealt_with_before_the_job_runs_is_not_emailed(agent, accountant,
                                                                 django_capture_on_commit_callbacks):
    ann = UserFactory(username="ann", email="ann@example.com", role="Accountants")
    line, ticket = line_with_ticket(quantity=1, order__accountant=ann)
    log(agent, ticket, 60)
    with django_capture_on_commit_callbacks(execute=True):
        [alert] = alerts_scan()
    alert_clear(alert_id=alert.pk, actor=accountant)

    run_jobs()
    assert mail.outbox == []

"""API: billing runs (POST /billing-runs/ → 202, GET its progress, post, send, resume) and their refusals."""

import datetime

from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from invoicing.models import BillingRun, Invoice, RunStep

from ..factories import SaleOrderFactory, TicketFactory, confirmed_line, days_ago
from ..jobs import run_jobs
from .conftest import API, client_for

RUNS = f"{API}/billing-runs/"


def two_orders(agent):
    from timesheets.services import timesheet_log

    lines = []
    for name, email in (("Acme", "billing@acme.example"), ("Globex", "")):
        line = confirmed_line(price_unit=90, order__customer__name=name, order__customer__email=email)
        ticket = TicketFactory(customer=line.order.customer, sale_line=line)
        timesheet_log(user=agent, date=days_ago(3), minutes=90, ticket=ticket)
        timesheet_log(user=agent, date=days_ago(1), minutes=30, ticket=ticket)
        lines.append(line)
    return lines


def test_a_run_through_the_api_from_start_to_sent(agent, accountant_api):
    acme, globex = two_orders(agent)
    answer = accountant_api.post(RUNS, {"period_end": str(days_ago(2))}, format="json")
    assert answer.status_code == 202, answer.content
    run = answer.json()
    assert (run["state"], run["total"], run["done"], run["refused"], run["invoices"]) == ("queued", 2, 0, [], [])
    assert run["period_end"] == str(days_ago(2))

    run_jobs()
    run = accountant_api.get(f"{RUNS}{run['id']}/").json()
    assert (run["state"], run["total"], run["done"]) == ("done", 2, 2)
    invoices = Invoice.objects.filter(pk__in=run["invoices"])
    assert sorted(str(invoice.amount_untaxed) for invoice in invoices) == ["135.00", "135.00"]  # 1:30 each

    answer = accountant_api.post(f"{RUNS}{run['id']}/post/")
    assert answer.status_code == 202 and answer.json()["steps"][1]["kind"] == "post"
    run_jobs()
    assert set(invoices.values_list("state", flat=True)) == {"posted"}

    answer = accountant_api.post(f"{RUNS}{run['id']}/send/")
    assert answer.status_code == 202
    run_jobs()
    run = accountant_api.get(f"{RUNS}{run['id']}/").json()
    assert [step["kind"] for step in run["steps"]] == ["create", "post", "send"]
    assert run["steps"][2] | {"id": 0, "created_at": 0, "finished_at": 0} == {
        "id": 0, "kind": "send", "state": "done", "total": 2, "done": 1, "refused": 1, "stalled": False,
        "created_at": 0, "finished_at": 0}
    assert run["refused"] == [{"order": globex.order_id, "step": "send",
                               "reason": "Globex has no billing email: add one to the customer first."}]
    assert [message.to for message in mail.outbox] == [["billing@acme.example"]]
    assert accountant_api.get(RUNS).json()["count"] == 1


def test_the_api_names_what_it_refuses_and_starts_nothing(agent, accountant_api):
    two_orders(agent)
    quotation = SaleOrderFactory()
    cases = [
        ({"orders": [quotation.pk]}, {"orders": [f"These are not confirmed sales orders: {quotation.pk}."]}),
        ({"orders": []}, {"orders": ["This list may not be empty."]}),
        ({"orders": ["x"]}, {"orders": {"0": ["A valid integer is required."]}}),
        ({"orders": [2**70]}, {"orders": {"0": ["Ensure this value is less than or equal to 9223372036854775807."]}}),
        ({"period_end": "tomorrow"}, {"period_end": [
            "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}),
        ({"period_end": str(timezone.localdate() + datetime.timedelta(days=1))}, {"period_end": [
            "The period ends today at the latest: no time is logged in the future."]}),
        ({"period_end": "2001-01-01"}, {"detail": "There is nothing to invoice up to 2001-01-01."}),
    ]
    for body, error in cases:
        answer = accountant_api.post(RUNS, body, format="json")
        assert (answer.status_code, answer.json()) == (400, error), body
    assert not BillingRun.objects.exists()


def test_post_send_and_resume_refused_out_of_turn(agent, accountant_api):
    two_orders(agent)
    run = accountant_api.post(RUNS, {}, format="json").json()
    answer = accountant_api.post(f"{RUNS}{run['id']}/post/")
    assert answer.status_code == 409
    assert "is still creating its invoices" in answer.json()["detail"]
    answer = accountant_api.post(f"{RUNS}{run['id']}/resume/")
    assert (answer.status_code, answer.json()["detail"]) == (
        409, f"Billing run {run['id']} has no stalled step: its workers are at work, or it is done.")
    # Silent for an hour while its jobs wait in the queue: no worker runs, which a resume cannot cure.
    RunStep.objects.filter(run_id=run["id"]).update(beat_at=timezone.now() - datetime.timedelta(hours=1))
    assert accountant_api.get(f"{RUNS}{run['id']}/").json()["steps"][0]["stalled"] is True
    answer = accountant_api.post(f"{RUNS}{run['id']}/resume/")
    assert (answer.status_code, answer.json()["detail"]) == (409, f"Billing run {run['id']}: Create Invoices "
                                                                  "has a job waiting for a worker: check that "
                                                                  "`manage.py worker` runs.")
    # Its jobs taken by a worker that died: resumed.
    DBTaskResult.objects.update(status="RUNNING")
    assert accountant_api.post(f"{RUNS}{run['id']}/resume/").status_code == 202
    run_jobs()
    assert accountant_api.get(f"{RUNS}{run['id']}/").json()["done"] == 2


def test_only_those_who_bill_see_and_start_runs(agent, manager, accountant_api):
    two_orders(agent)
    run = accountant_api.post(RUNS, {}, format="json").json()
    for user, status in ((agent, 403), (None, 401)):
        api = client_for(user)
        assert api.get(RUNS).status_code == status
        assert api.get(f"{RUNS}{run['id']}/").status_code == status
        assert api.post(RUNS, {}, format="json").status_code == status
        assert api.post(f"{RUNS}{run['id']}/post/").status_code == status
    assert client_for(manager).get(f"{RUNS}{run['id']}/").status_code == 200
    assert client_for(manager).get(f"{RUNS}999999/").status_code == 404
    assert BillingRun.objects.count() == 1

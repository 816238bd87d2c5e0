"""The Timesheets lock date in the admin: managers set it, each change is audited, accountants only read it."""

from django.test import Client

from audit.models import AuditEvent
from timesheets.models import LockDate

from ..factories import days_ago

ADD, LIST = "/admin/timesheets/lockdate/add/", "/admin/timesheets/lockdate/"


def test_a_manager_sets_the_lock_date_and_the_log_says_who(manager_client, manager):
    response = manager_client.post(ADD, {"lock_date": days_ago(30).isoformat(), "agent_grace_days": "7"})

    assert response.status_code == 302
    lock = LockDate.current()
    assert (lock.lock_date, lock.agent_grace_days) == (days_ago(30), 7)
    assert manager_client.get(ADD).status_code == 403  # one row: changed, never added twice
    response = manager_client.post(f"{LIST}1/change/", {"lock_date": days_ago(20).isoformat(), "agent_grace_days": ""})
    assert response.status_code == 302
    events = AuditEvent.objects.filter(action=AuditEvent.Action.LOCK_DATE_CHANGED).order_by("pk")
    assert [(e.actor, e.changes) for e in events] == [
        (manager, {"lock_date": [None, days_ago(30).isoformat()], "agent_grace_days": [None, 7]}),
        (manager, {"lock_date": [days_ago(30).isoformat(), days_ago(20).isoformat()], "agent_grace_days": [7, None]}),
    ]


def test_a_lock_date_in_the_future_is_refused_on_the_form(manager_client):
    response = manager_client.post(ADD, {"lock_date": days_ago(-1).isoformat(), "agent_grace_days": ""})

    assert response.status_code == 200
    assert "The lock date cannot be in the future" in response.text
    assert not LockDate.objects.exists()


def test_accountants_read_it_and_agents_do_not_see_it(accountant, agent):
    LockDate.objects.create(pk=1, lock_date=days_ago(10))
    accountant.is_staff = agent.is_staff = True
    accountant.save()
    agent.save()
    reader, outsider = Client(), Client()
    reader.force_login(accountant)
    outsider.force_login(agent)

    assert reader.get(f"{LIST}1/change/").status_code == 200
    assert reader.post(f"{LIST}1/change/", {"lock_date": "", "agent_grace_days": ""}).status_code == 403
    assert outsider.get(LIST).status_code == 403
    assert LockDate.current().lock_date == days_ago(10)

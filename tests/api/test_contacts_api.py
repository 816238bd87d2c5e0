"""Customers' contacts in the API (issue 18): managers and accountants list, invite, invite again and deactivate
them (`customers/{id}/contacts/`, `contacts/`); agents are refused. The services audit and email (a job)."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from audit.models import AuditEvent
from sales.contacts import contact_deactivate
from sales.models import Contact

from ..factories import CustomerFactory
from ..jobs import run_jobs
from ..portal import conftest as portal_world
from ..portal.conftest import link_of
from .conftest import API, client_for

portal = portal_world.portal  # the two customers' fixture of tests/portal/, shared

User = get_user_model()


def state() -> tuple:
    return (list(User.objects.order_by("pk").values_list("pk", "username", "is_active", "password")),
            list(Contact.objects.order_by("pk").values_list()), AuditEvent.objects.count())


def contact_body(contact, **fields):
    contact.refresh_from_db()
    user = contact.user
    return {"id": contact.pk, "customer": contact.customer_id, "customer_name": contact.customer.name,
            "name": contact.name, "email": user.email, "joined": user.has_usable_password(),
            "active": user.is_active, "invited_at": contact.invited_at.isoformat().replace("+00:00", "Z"),
            "invited_by": contact.invited_by_id, **fields}


@pytest.mark.parametrize("who", ["manager", "accountant"])
def test_managers_and_accountants_invite_a_contact(portal, who):
    inviter = portal[who]
    api = client_for(inviter)
    customer = portal["a"].contact.customer

    response = api.post(f"{API}/customers/{customer.pk}/contacts/", {"email": " Hank@Globex.example ",
                                                                     "name": "Hank Scorpio"})

    assert response.status_code == 201, response.json()
    contact = Contact.objects.get(user__email="hank@globex.example")
    assert response.json() == contact_body(contact)
    assert response.json() | {"id": 0, "invited_at": ""} == {
        "id": 0, "customer": customer.pk, "customer_name": "Portal customer a", "name": "Hank Scorpio",
        "email": "hank@globex.example", "joined": False, "active": True, "invited_at": "", "invited_by": inviter.pk}
    event = AuditEvent.objects.get(action="contact.invited", object_id=contact.pk)
    assert (event.actor, event.changes) == (inviter, {"customer": "Portal customer a",
                                                      "email": "hank@globex.example"})
    # The email goes from a job, with a link to the address the request came to.
    assert mail.outbox == []
    assert run_jobs() == 1
    message = mail.outbox[0]
    assert message.to == ["hank@globex.example"]
    uid, token = link_of(contact.user)
    assert f"http://testserver/portal/password/{uid}/" in message.body

    listed = api.get(f"{API}/customers/{customer.pk}/contacts/")
    assert listed.status_code == 200
    assert listed.json() == [contact_body(portal["a"].contact), contact_body(contact)]


def test_agents_neither_see_nor_invite_contacts(portal):
    api = client_for(portal["a"].agent)
    customer = portal["a"].contact.customer
    refusal = {"detail": "Only managers and accountants see and invite customers' contacts."}
    before = state()

    for response in (api.get(f"{API}/customers/{customer.pk}/contacts/"),
                     api.post(f"{API}/customers/{customer.pk}/contacts/", {"email": "x@example.com"}),
                     api.get(f"{API}/contacts/"),
                     api.post(f"{API}/contacts/{portal['a'].contact.pk}/reinvite/"),
                     api.post(f"{API}/contacts/{portal['a'].contact.pk}/deactivate/")):
        assert (response.status_code, response.json()) == (403, refusal)
    assert state() == before


@pytest.mark.parametrize("body, code, refusal", [
    ({}, 400, {"email": ["This field is required."]}),
    ({"email": ""}, 400, {"email": ["This field may not be blank."]}),
    ({"email": "not-an-address"}, 400, {"email": ["not-an-address is not an email address."]}),
    ({"email": ["a@example.com"]}, 400, {"email": ["Not a valid string."]}),
    ({"email": "a@example.com", "name": {"first": "A"}}, 400, {"name": ["Not a valid string."]}),
    ({"email": "a@example.com", "name": "x" * 151}, 400, {"name": ["Keep the name under 150 characters."]}),
    ({"email": "x" * 250 + "@example.com"}, 400, {"email": ["Ensure this field has no more than 254 characters."]}),
    ({"email": "CONTACT-A@example.com"}, 409,
     {"detail": "contact-a@example.com already has an account: each contact needs an address of their own."}),
    ({"email": "portal-manager@example.com"}, 409,
     {"detail": "portal-manager@example.com already has an account: each contact needs an address of their own."}),
])
def test_an_invitation_refused_changes_nothing(portal, body, code, refusal):
    portal["manager"].email = "portal-manager@example.com"
    portal["manager"].save()
    api = client_for(portal["accountant"])
    before = state()

    response = api.post(f"{API}/customers/{portal['a'].contact.customer_id}/contacts/", body)

    assert (response.status_code, response.json()) == (code, refusal)
    assert state() == before
    assert run_jobs() == 0


def test_an_unknown_customer_is_not_found(portal):
    api = client_for(portal["manager"])

    for response in (api.get(f"{API}/customers/{10**6}/contacts/"),
                     api.post(f"{API}/customers/{10**6}/contacts/", {"email": "a@example.com"}),
                     api.post(f"{API}/contacts/{10**6}/reinvite/"), api.post(f"{API}/contacts/abc/deactivate/")):
        assert response.status_code == 404


def test_every_contact_with_a_customer_filter(portal):
    api = client_for(portal["accountant"])
    a, b = portal["a"].contact, portal["b"].contact
    other = CustomerFactory(name="Globex")

    response = api.get(f"{API}/contacts/")

    assert response.status_code == 200
    assert response.json() == {"count": 2, "next": None, "previous": None,
                               "results": [contact_body(a), contact_body(b)]}
    assert api.get(f"{API}/contacts/?customer={b.customer_id}").json()["results"] == [contact_body(b)]
    assert api.get(f"{API}/contacts/?customer={other.pk}").json()["count"] == 0
    response = api.get(f"{API}/contacts/?customer=abc")
    assert (response.status_code, response.json()) == (400, {"customer": ["Enter a whole number."]})


def test_an_invitation_sent_again(portal):
    manager = portal["manager"]
    api = client_for(manager)
    created = api.post(f"{API}/customers/{portal['a'].contact.customer_id}/contacts/", {"email": "hank@globex.example"})
    contact = Contact.objects.get(pk=created.json()["id"])
    run_jobs()
    mail.outbox.clear()

    response = api.post(f"{API}/contacts/{contact.pk}/reinvite/")

    assert (response.status_code, response.json()) == (202, {
        "detail": "Queued: a new invitation will be sent to hank@globex.example.", "to": "hank@globex.example"})
    assert run_jobs() == 1
    assert mail.outbox[0].to == ["hank@globex.example"]
    events = AuditEvent.objects.filter(action="contact.invited", object_id=contact.pk).order_by("pk")
    assert [event.changes.get("again", False) for event in events] == [False, True]
    assert events.last().actor == manager


def test_a_joined_or_deactivated_contact_is_not_invited_again(portal):
    api = client_for(portal["accountant"])
    a, b = portal["a"].contact, portal["b"].contact
    contact_deactivate(contact=b, actor=portal["manager"])
    before = state()

    response = api.post(f"{API}/contacts/{a.pk}/reinvite/")
    assert (response.status_code, response.json()) == (409, {
        "detail": "Contact A has already set a password: they use \"Forgot your password?\" on the portal."})
    response = api.post(f"{API}/contacts/{b.pk}/reinvite/")
    assert (response.status_code, response.json()) == (409, {
        "detail": "Contact B is deactivated: invite them again only once reactivated."})
    assert state() == before
    assert run_jobs() == 0


def test_deactivating_closes_the_portal(portal):
    manager = portal["manager"]
    api = client_for(manager)
    contact = portal["a"].contact
    contacts_api = client_for(contact.user)
    assert contacts_api.get(f"{API}/portal/me/").status_code == 200

    response = api.post(f"{API}/contacts/{contact.pk}/deactivate/")

    assert response.status_code == 200
    assert response.json() == contact_body(contact, active=False)
    event = AuditEvent.objects.get(action="contact.deactivated")
    assert (event.actor, event.object_id, event.changes) == (
        manager, contact.pk, {"customer": "Portal customer a", "email": "contact-a@example.com"})
    assert contacts_api.get(f"{API}/portal/me/").status_code == 401
    assert User.objects.get(pk=contact.user_id).is_active is False
    # Again: nothing more.
    assert api.post(f"{API}/contacts/{contact.pk}/deactivate/").json()["active"] is False
    assert AuditEvent.objects.filter(action="contact.deactivated").count() == 1


def test_contacts_cannot_reach_the_staffs_contacts(portal):
    api = client_for(portal["a"].contact.user)

    for response in (api.get(f"{API}/contacts/"),
                     api.post(f"{API}/customers/{portal['a'].contact.customer_id}/contacts/",
                              {"email": "x@x.example"})):
        assert response.status_code == 403

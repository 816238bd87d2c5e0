"""The admin of the customer portal (issue 18): a customer's contacts on its page, "Invite a contact" (the email
queued, then sent by the job), the Contacts list with "Send the invitation again" and "Close portal access", who
may use each, and the portal's settings of a team and of the company."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from sales.contacts import contact_invite
from sales.models import Company, Contact
from tickets.models import HelpdeskTeam

from ..factories import CustomerFactory, TeamFactory, TicketFactory, UserFactory
from ..jobs import queued, run_jobs
from ..portal.conftest import invite_and_join
from .test_admin import form_data

pytestmark = pytest.mark.django_db

LINK_JOB = "sales.tasks.send_contact_link"


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def acme(db):
    return CustomerFactory(name="Acme Corporation", vat_number="")


@pytest.fixture
def contacts(acme):
    """Acme's two contacts: Wile, who set his password, and Road, invited and not joined yet."""
    joined = invite_and_join(acme, "wile@acme.example", "Wile Coyote")
    pending = contact_invite(customer=acme, email="road@acme.example", name="Road Runner")
    run_jobs()
    mail.outbox.clear()
    return joined, pending


def invite_address(customer) -> str:
    return reverse("admin:sales_customer_invite", args=[customer.pk])


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- The customer's page -------------------------------------------------------------------------------

def test_the_customers_page_lists_its_contacts_read_only_with_invite(acme, contacts, accountant):
    joined, pending = contacts
    response = browser(accountant).get(reverse("admin:sales_customer_change", args=[acme.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{invite_address(acme)}" class="addlink" id="invite-contact">Invite a contact</a>' in html
    [inline] = [i for i in response.context["inline_admin_formsets"] if i.opts.model is Contact]
    rows = [(form.original.name, form.original.user.email, form.original.joined, form.original.user.is_active)
            for form in inline]
    assert rows == [("Road Runner", "road@acme.example", False, True), ("Wile Coyote", "wile@acme.example", True, True)]
    assert not inline.has_add_permission and not inline.has_change_permission and not inline.has_delete_permission
    assert "Portal contacts" in html and "road@acme.example" in html


def test_saving_the_customer_leaves_its_contacts_as_they_are(acme, contacts, manager):
    client = browser(manager)
    address = reverse("admin:sales_customer_change", args=[acme.pk])
    data = form_data(client.get(address))
    data["name"] = "Acme Corp."
    assert client.post(address, data).status_code == 302
    acme.refresh_from_db()
    assert acme.name == "Acme Corp."
    assert sorted(Contact.objects.values_list("user__email", "user__is_active")) == [
        ("road@acme.example", True), ("wile@acme.example", True)]


def test_an_invitation_from_the_customers_page_is_emailed_by_its_job(acme, accountant):
    client = browser(accountant)
    assert client.get(invite_address(acme)).status_code == 200
    response = client.post(invite_address(acme), {"email": " Hank@Acme.example ", "name": "Hank Scorpio"},
                           follow=True)
    assert response.redirect_chain == [(reverse("admin:sales_customer_change", args=[acme.pk]), 302)]
    assert messages_of(response) == [
        "hank@acme.example is invited: the email with a link to set their password is on its way."]
    contact = Contact.objects.get()
    assert (contact.customer, contact.user.email, contact.name, contact.joined, contact.invited_by) == (
        acme, "hank@acme.example", "Hank Scorpio", False, accountant)
    assert AuditEvent.objects.filter(action="contact.invited", actor=accountant).count() == 1
    assert mail.outbox == []  # queued: the request does not wait on the mail server
    assert queued(LINK_JOB) == [[contact.user.pk, "invitation", "http://testserver"]]
    assert run_jobs() == 1
    [message] = mail.outbox
    assert message.to == ["hank@acme.example"]
    assert "http://testserver/portal/password/" in message.body and "Hank" in message.body


@pytest.mark.parametrize("email, error", [
    ("", "Give the contact's email address."),
    ("not-an-address", "not-an-address is not an email address."),
    ("wile@acme.example", "wile@acme.example already has an account: each contact needs an address of their own."),
    ("accountant@example.com", "accountant@example.com already has an account: each contact needs an address of "
                               "their own."),
    ("nul\x00@acme.example", "Null characters are not allowed."),
])
def test_a_refused_invitation_says_why_on_the_form_and_changes_nothing(acme, contacts, accountant, email, error):
    accountant.email = "accountant@example.com"
    accountant.save()
    before = (Contact.objects.count(), AuditEvent.objects.count())
    response = browser(accountant).post(invite_address(acme), {"email": email, "name": "Someone"})
    assert response.status_code == 200
    assert response.context["form"].errors == {"email": [error]}
    assert (Contact.objects.count(), AuditEvent.objects.count()) == before
    assert queued(LINK_JOB) == []


def test_who_may_invite_and_see_contacts(acme, contacts, manager, accountant):
    staff_agent = UserFactory(username="lead", role="Agents", is_staff=True)
    team = TeamFactory()
    team.members.add(staff_agent)
    TicketFactory(team=team, customer=acme)  # Acme is one of the agent's customers: the admin shows it them
    contact = contacts[0]
    pages = [invite_address(acme), reverse("admin:sales_contact_changelist"),
             reverse("admin:sales_contact_change", args=[contact.pk])]
    for user in (manager, accountant):
        assert [browser(user).get(page).status_code for page in pages] == [200, 200, 200], user
    # An agent (staff: the admin opens) sees neither the button, nor the contacts, nor the invitation page.
    agent = browser(staff_agent)
    assert [agent.get(page).status_code for page in pages] == [403, 403, 403]
    assert agent.post(invite_address(acme), {"email": "sneaky@example.com"}).status_code == 403
    assert not Contact.objects.filter(user__email="sneaky@example.com").exists()
    # Nobody adds, changes or deletes a contact here: the services do.
    client = browser(manager)
    assert client.get(reverse("admin:sales_contact_add")).status_code == 403
    assert client.get(reverse("admin:sales_contact_delete", args=[contact.pk])).status_code == 403
    assert client.get(invite_address(CustomerFactory.build(pk=999999))).status_code == 404


# --- The Contacts list's actions -----------------------------------------------------------------------

def act(client, action, contacts, *, page=None):
    address = page or reverse("admin:sales_contact_changelist")
    data = {"action": action, ACTION_CHECKBOX_NAME: [c.pk for c in contacts]}
    if page:  # an action on the contact's own page
        data = {"CHANGE_FORM-action": action, ACTION_CHECKBOX_NAME: [c.pk for c in contacts]}
    response = client.post(address, data, follow=True)
    assert response.status_code == 200
    return messages_of(response)


def test_send_the_invitation_again_to_who_has_not_joined(contacts, manager):
    joined, pending = contacts
    said = act(browser(manager), "reinvite", [joined, pending])
    assert said == ['Wile Coyote has already set a password: they use "Forgot your password?" on the portal.',
                    "Invitation sent again to road@acme.example."]
    assert queued(LINK_JOB) == [[pending.user.pk, "invitation", "http://testserver"]]
    assert run_jobs() == 1
    assert [message.to for message in mail.outbox] == [["road@acme.example"]]
    assert list(AuditEvent.objects.filter(action="contact.invited", object_id=pending.pk).order_by("pk").values_list(
        "actor__username", "changes__again")) == [(None, None), ("manager", True)]


def test_close_portal_access(contacts, accountant):
    joined, pending = contacts
    client = browser(accountant)
    said = act(client, "deactivate", [joined], page=reverse("admin:sales_contact_change", args=[joined.pk]))
    assert said == ["Wile Coyote can no longer sign in to the portal."]
    joined.user.refresh_from_db()
    assert not joined.user.is_active
    assert AuditEvent.objects.get(action="contact.deactivated").actor == accountant
    # Closed: invited again, refused with why; closed again, nothing more happens.
    assert act(client, "reinvite", [joined]) == [
        "Wile Coyote is deactivated: invite them again only once reactivated."]
    assert queued(LINK_JOB) == []
    assert act(client, "deactivate", [joined]) == ["Wile Coyote can no longer sign in to the portal."]
    assert AuditEvent.objects.filter(action="contact.deactivated").count() == 1
    changelist = client.get(reverse("admin:sales_contact_changelist"), {"user__is_active__exact": "0"})
    assert [row.pk for row in changelist.context["cl"].result_list] == [joined.pk]


def test_an_agent_cannot_run_the_actions(contacts, world):
    lead = browser(world.users["lead_a"])
    response = lead.post(reverse("admin:sales_contact_changelist"),
                         {"action": "deactivate", ACTION_CHECKBOX_NAME: [contacts[0].pk]})
    assert response.status_code == 403
    contacts[0].user.refresh_from_db()
    assert contacts[0].user.is_active


# --- The portal's settings -----------------------------------------------------------------------------

def test_a_team_accepts_portal_tickets_and_holds_disputed_time_as_the_manager_says(manager):
    team = TeamFactory(name="Customer Care")
    assert (team.portal_tickets, team.hold_disputed) == (False, True)
    client = browser(manager)
    address = reverse("admin:tickets_helpdeskteam_change", args=[team.pk])
    data = form_data(client.get(address))
    data["portal_tickets"] = "on"
    data.pop("hold_disputed", None)
    assert client.post(address, data).status_code == 302
    team = HelpdeskTeam.objects.get(pk=team.pk)
    assert (team.portal_tickets, team.hold_disputed) == (True, False)


def test_the_company_says_whether_the_portal_shows_agents_names(manager):
    client = browser(manager)
    address = reverse("admin:sales_company_change", args=[Company.current().pk])
    data = form_data(client.get(address))
    assert data.get("portal_shows_agents") == "on"
    data.pop("portal_shows_agents")
    assert client.post(address, data).status_code == 302
    assert Company.current().portal_shows_agents is False

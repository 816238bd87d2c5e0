"""Who may do what, written once: the screens, the API and the admin all ask `user.has_perm(...)`.

Each rule is a `rules` predicate over the user and, for an object permission, the object;
a permission with a rule is answered by its rule alone (`GroupsBackend`), the other model
permissions by the groups (core.roles.GROUPS). The visibility of rows (which tickets, entries,
orders an agent sees) is the selectors' job (`tickets_for`, `time_entries_for`...): a row out
of sight is a 404 before any rule is asked.
"""

import rules
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from .db import one
from .languages import with_language
from .roles import (
    is_accountant,
    is_agent,
    is_contact,
    is_manager,
    remember_roles,
    sees_everything,
    with_role_names,
)


class GroupsBackend(ModelBackend):
    """The groups' model permissions, for the permissions no rule names.

    Asked after the rules' backend, and only when it said no: without this, every "no" of a
    rule would also read the user's group permissions (two queries) to say no again.
    """

    def has_perm(self, user_obj, perm, obj=None):
        return not rules.perm_exists(perm) and super().has_perm(user_obj, perm, obj)

    def get_user(self, user_id):
        """The session's user with their roles and saved language, in one query (every page asks the roles)."""
        user = one(with_language(with_role_names(get_user_model()._default_manager.filter(pk=user_id))))
        if user is None or not self.user_can_authenticate(user):
            return None
        remember_roles(user, user.role_names)
        return user


@rules.predicate
def is_own_entry(user, entry) -> bool:
    """Whether the entry is the user's; with no entry (may they change entries at all?), yes: their own."""
    return entry is None or entry.user_id == user.pk


@rules.predicate
def is_self(user, agent) -> bool:
    return agent is not None and agent.pk == user.pk


@rules.predicate
def has_logged_time(user, ticket) -> bool:
    """Whether time is logged on the ticket (timesheets' reverse relation)."""
    return ticket is not None and ticket.pk is not None and ticket.time_entries.exists()


# Configuration through the API: customers, taxes, products, projects, tasks, teams.
rules.add_perm("core.configure", is_manager)
# Every team's tickets, tasks, time, orders and invoices (the selectors narrow the others').
rules.add_perm("core.see_all_teams", sees_everything)

# Tickets: file one, move its status, set its task, Sales Order Item and timer.
rules.add_perm("tickets.work_ticket", is_agent | is_manager)
# A ticket's customer is fixed once time is logged on it; a manager moves it with its time
# (tickets.services.ticket_set_customer), so no sequence of edits carries billed-for time away.
rules.add_perm("tickets.change_ticket_customer", is_manager | (is_agent & ~has_logged_time))

# Time: log it; for someone else (a manager for an agent); change or delete an entry (one's own,
# or anyone's for a manager). Invoiced time is refused by the services, with their message.
rules.add_perm("timesheets.log_time", is_agent | is_manager)
rules.add_perm("timesheets.log_time_for", is_manager | (is_agent & is_self))
rules.add_perm("timesheets.change_timeentry", is_manager | (is_agent & is_own_entry))
rules.add_perm("timesheets.delete_timeentry", is_manager | (is_agent & is_own_entry))
# Approval (Rule 11): managers approve and reject others' time (never their own: the service names
# those entries); a manager reinstates a written-off entry (Rule 15). Writing off is billing: invoicing.bill.
rules.add_perm("timesheets.approve", is_manager)
rules.add_perm("timesheets.reinstate", is_manager)
# Approved time, and time on a locked date (Rule 12), stay as they are except for managers: the services
# refuse the others with their message, and the screens offer them no Edit.
rules.add_perm("timesheets.change_approved_time", is_manager)
rules.add_perm("timesheets.change_locked_time", is_manager)

# Quotations and sales orders: create, edit, confirm, cancel, a manual line's Delivered.
rules.add_perm("sales.sell", is_accountant | is_manager)
# Invoices: Create Invoice, take entries off a draft, cancel, post, credit.
rules.add_perm("invoicing.bill", is_accountant | is_manager)
# The PDF lists every team's Timesheets: for those who see every team.
rules.add_perm("invoicing.download_invoice_pdf", sees_everything)
# The receivable: register and reverse payments and refunds, and the due date of a draft, are the
# accountants'; managers see payments, balances and the Overdue list (sees_everything), change nothing.
rules.add_perm("invoicing.register_payment", is_accountant)
rules.add_perm("invoicing.see_receivables", sees_everything)
# The company's identity, bank and terms on every invoice: managers (the admin, `PATCH /company/`).
rules.add_perm("sales.change_company", is_manager)
# Reports (reports app): the Time report of everyone's time, Unbilled work, Revenue and Prepaid lines are
# for those who see every team; an agent's Time report shows their own time only (reports.time).
rules.add_perm("reports.see_reports", sees_everything)
rules.add_perm("reports.see_time_report", is_agent | sees_everything)
# Alerts go to the order's accountant; accountants and managers mark them dealt with.
rules.add_perm("reports.clear_alert", is_accountant | is_manager)

# The customer portal (issue 18). Managers and accountants invite a customer's contacts and close their access;
# they resolve the disputes contacts raise (keep, write off, correct: billing). Contacts use the portal only
# (core.boundary), and see their own customer's rows only (the `contact_*` selectors).
rules.add_perm("sales.invite_contact", is_manager | is_accountant)
rules.add_perm("timesheets.resolve_dispute", is_accountant | is_manager)
rules.add_perm("portal.use", is_contact)
# A message on a ticket: its customer's contact, or the support team (agents of its team, managers).
rules.add_perm("tickets.post_message", is_contact | is_agent | is_manager)

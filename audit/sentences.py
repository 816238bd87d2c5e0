"""The audit log read aloud: each event as one sentence of a History ("Status changed from New to
In Progress"), never the raw "status new → in_progress"."""

from .models import AuditEvent

A = AuditEvent.Action


def _status(value) -> str:
    """"In Progress" for "in_progress": a ticket status's label (the audit app imports nothing of ours)."""
    return str(value or "none").replace("_", " ").title()


def _ticket(event: AuditEvent) -> str | None:
    changes = event.changes
    if event.action == A.TICKET_CREATED:
        who = f", assigned to {changes['assignee']}" if changes.get("assignee") else ""
        return f"Ticket created in {changes.get('team')} for {changes.get('customer')}{who}"
    if event.action == A.TICKET_STATUS_CHANGED:
        before, after = changes["status"]
        return f"Status changed from {_status(before)} to {_status(after)}"
    if event.action == A.TICKET_ASSIGNED:
        before, after = changes["assignee"]
        if after is None:
            return f"Unassigned (was {before})"
        return f"Assigned to {after}" + (f" (was {before})" if before else "")
    return None


def sentence(event: AuditEvent) -> str:
    """Return the event as a sentence, without who and when (the History shows them beside it)."""
    text = _ticket(event)
    if text is not None:
        return text
    details = "; ".join(f"{name} {value}" for name, value in event.change_items())
    return f"{event.get_action_display()}" + (f": {details}" if details else "")

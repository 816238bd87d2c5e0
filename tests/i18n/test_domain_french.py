"""Issue 17: the domain speaks French to a French reader (core, audit, sales, projects, tickets, timesheets).

Refusals, the week grid's reasons, History sentences, choice labels and quantities are written when they are
read, in the active language: French dates 02/12/2026, decimal commas, no-break spaces before « : » and units
(U+00A0), before « ; » (U+202F), plurals by Django's French rule (0 and 1 are singular). English stays as the
other tests assert it.
"""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation
from rest_framework.test import APIClient

from audit.models import AuditEvent
from audit.sentences import sentence
from sales.models import SaleOrder
from sales.templatetags.billing import money, quantity, unit_symbol
from tickets.models import Ticket
from tickets.selectors import tickets_for
from timesheets.durations import parse_duration
from timesheets.models import LockDate, TimeEntry
from timesheets.selectors import time_entries_for
from timesheets.services import timesheet_log
from timesheets.week import week_grid

NB, NNB = "\u00a0", "\u202f"  # no-break space (before « : », units); narrow no-break space (before « ; »)
A = AuditEvent.Action
# A Thursday: the week of Monday 30/11/2026 holds locked days, today and days to come.
TODAY = datetime.datetime(2026, 12, 3, 10, 0, tzinfo=datetime.UTC)
LOCKED = datetime.date(2026, 12, 2)


@pytest.fixture(autouse=True)
def english_after():
    """The test client leaves its last request's language active: each test starts and ends in English."""
    yield
    translation.activate("en")


@pytest.fixture
def french():
    with translation.override("fr"):
        yield


@pytest.fixture
def wednesday():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def member(agent, ticket):
    ticket.team.members.add(agent)
    return agent


def said(action, changes, **kwargs) -> str:
    return sentence(AuditEvent(action=action, changes=changes), **kwargs)


def test_a_lock_date_refusal_names_the_date_as_french_writes_it(wednesday, member, ticket):
    LockDate.objects.create(pk=1, lock_date=LOCKED)
    with translation.override("fr"), pytest.raises(ValidationError) as refused:
        timesheet_log(user=member, date=LOCKED, minutes=30, ticket=ticket, actor=member)
    assert refused.value.message_dict == {"date": ["Les feuilles de temps jusqu'au 02/12/2026 sont verrouillées."]}
    with pytest.raises(ValidationError) as refused:
        timesheet_log(user=member, date=LOCKED, minutes=30, ticket=ticket, actor=member)
    assert refused.value.message_dict == {"date": ["Timesheets up to 2026-12-02 are locked."]}


def test_the_grace_window_refusal_is_plural_in_french_from_two_days(wednesday, member, ticket, french):
    LockDate.objects.create(pk=1, agent_grace_days=2)
    with pytest.raises(ValidationError) as refused:
        timesheet_log(user=member, date=datetime.date(2026, 11, 30), minutes=30, ticket=ticket, actor=member)
    assert refused.value.message_dict == {"date": [
        f"Les feuilles de temps antérieures au 01/12/2026 sont verrouillées{NB}: les agents peuvent encoder du "
        "temps jusqu'à 2 jours en arrière. Demandez à un manager."]}


@pytest.mark.parametrize("text, message", [
    ("abc", f"«{NB}abc{NB}» n'est pas une durée. Saisissez une durée comme 1:30, 1,5, 1h30 ou 90 min."),
    ("", "Une durée est requise. Saisissez une durée comme 1:30, 1,5, 1h30 ou 90 min."),
    ("-1:00", "Une durée ne peut pas être négative. Saisissez une durée comme 1:30, 1,5, 1h30 ou 90 min."),
    ("0", f"Une durée doit dépasser 0{NB}minute."),
    ("25h", f"Une entrée de temps ne peut pas dépasser 24{NB}heures (24:00)."),
])
def test_a_duration_refusal_says_in_french_what_is_accepted(french, text, message):
    with pytest.raises(ValidationError) as refused:
        parse_duration(text)
    assert refused.value.messages == [message]


@pytest.mark.parametrize("text", ["1:30", "1.5", "1,5", "1h30", "1 h 30", f"1{NB}h{NB}30", "90m", "90 min"])
def test_durations_are_typed_the_same_in_both_languages(text):
    for language in ("en", "fr"):
        with translation.override(language):
            assert parse_duration(text) == 90


def test_the_week_grid_says_why_a_cell_is_closed_in_french(wednesday, member, ticket, french):
    LockDate.objects.create(pk=1, lock_date=LOCKED)
    timesheet_log(user=member, date=datetime.date(2026, 12, 3), minutes=30, ticket=ticket)
    timesheet_log(user=member, date=datetime.date(2026, 12, 3), minutes=15, ticket=ticket)
    week = week_grid(agent=member, start=datetime.date(2026, 11, 30), viewer=member,
                     entries=time_entries_for(user=member), tickets=tickets_for(user=member))
    assert [cell.reason for cell in week.rows[0].cells] == [
        f"Verrouillé{NB}: les feuilles de temps jusqu'au 02/12/2026 sont verrouillées.",
        f"Verrouillé{NB}: les feuilles de temps jusqu'au 02/12/2026 sont verrouillées.",
        f"Verrouillé{NB}: les feuilles de temps jusqu'au 02/12/2026 sont verrouillées.",
        f"2 feuilles de temps ce jour{NB}: modifiez-les une par une sur le ticket.",
        "Vous ne pouvez pas encoder de temps dans le futur.",
        "Vous ne pouvez pas encoder de temps dans le futur.",
        "Vous ne pouvez pas encoder de temps dans le futur.",
    ]


def test_the_grace_window_reason_is_singular_for_one_day(wednesday, member, ticket, french):
    LockDate.objects.create(pk=1, agent_grace_days=1)
    week = week_grid(agent=member, start=datetime.date(2026, 11, 30), viewer=member,
                     entries=time_entries_for(user=member), tickets=tickets_for(user=member), add=[ticket.pk])
    assert week.rows[0].cells[0].reason == (
        f"Verrouillé{NB}: les agents peuvent encoder du temps jusqu'à 1 jour en arrière (à partir du 02/12/2026). "
        "Demandez à un manager.")


def test_the_api_answers_the_week_in_the_readers_language(wednesday, member, ticket):
    LockDate.objects.create(pk=1, lock_date=LOCKED)
    timesheet_log(user=member, date=datetime.date(2026, 12, 3), minutes=30, ticket=ticket)
    client = APIClient()
    client.force_authenticate(member)
    for language, reason in (("fr", f"Verrouillé{NB}: les feuilles de temps jusqu'au 02/12/2026 sont verrouillées."),
                             ("en", "Locked: timesheets up to 2026-12-02 are locked.")):
        response = client.get("/api/v1/timesheets/week/", {"week": "2026-11-30"}, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200, response.content
        [row] = response.json()["rows"]
        assert row["cells"][0]["reason"] == reason


def test_history_sentences_are_french_with_plurals_dates_and_amounts(french):
    dates = {1: "2026-11-28", 2: "2026-11-29", 3: "2026-11-29"}
    assert said(A.INVOICE_CANCELLED, {"state": ["draft", "cancelled"], "freed_timesheets": [1, 2]}, dates=dates) == \
        f"Annulé{NNB}; 2 feuilles de temps (28/11/2026, 29/11/2026) de nouveau à facturer"
    assert said(A.INVOICE_POSTED, {"number": [None, "RINV/2026/00001"], "amount_total": "1234.50",
                                   "due_date": None, "freed_timesheets": [1]}) == \
        f"Comptabilisé sous le numéro RINV/2026/00001, total 1{NNB}234,50{NNB}; 1 feuille de temps de nouveau à " \
        "facturer"
    assert said(A.INVOICE_TIMESHEETS_REMOVED, {"removed_timesheets": [1, 2, 3],
                                               "amount_total": ["617.10", "500.00"]}) == \
        f"Retrait de 3 feuilles de temps{NNB}; total désormais 500,00 (auparavant{NB}: 617,10)"
    assert said(A.ENTRY_CREATED, {"date": "2026-11-28", "minutes": 90, "ticket": 12}) == \
        "Encodage de 1:30 pour le 28/11/2026 sur le ticket #12"
    assert said(A.TICKET_STATUS_CHANGED, {"status": ["new", "in_progress"]}) == \
        f"Statut modifié de «{NB}Nouveau{NB}» à «{NB}En cours{NB}»"
    assert said(A.BILLING_RUN_STARTED, {"period_end": "2026-11-30", "orders": 1}) == \
        "Lot de facturation lancé pour 1 commande, feuilles de temps jusqu'au 30/11/2026"
    assert said(A.BILLING_RUN_STARTED, {"period_end": None, "orders": 12}) == \
        "Lot de facturation lancé pour 12 commandes, toutes les feuilles de temps"
    assert said(A.ALERT_RAISED, {"kind": "delivered", "delivered_minutes": 480, "ordered_minutes": 600,
                                 "threshold": "80.00"}) == \
        f"Alerte{NB}: le livré (8:00) a atteint 80{NB}% des 10:00 commandés"
    assert str(A.ENTRY_CREATED.label) == "Feuille de temps encodée"


def test_a_history_is_translated_when_read_never_when_recorded(member, ticket):
    with translation.override("fr"):
        entry = timesheet_log(user=member, date=datetime.date(2026, 11, 28), minutes=90, ticket=ticket, actor=member)
    event = AuditEvent.objects.get(action=A.ENTRY_CREATED, object_id=entry.pk)
    assert event.changes["date"] == "2026-11-28"
    assert event.object_repr == f"2026-11-28 {member} 1:30"
    assert event.sentence == f"Logged 1:30 for 2026-11-28 on ticket #{ticket.pk}"
    with translation.override("fr"):
        assert event.sentence == f"Encodage de 1:30 pour le 28/11/2026 sur le ticket #{ticket.pk}"


def test_choices_and_labels_are_french(french):
    assert Ticket.Status.IN_PROGRESS.label == "En cours"
    assert TimeEntry(approval=TimeEntry.Approval.TO_APPROVE).get_approval_display() == "À approuver"
    assert SaleOrder(state=SaleOrder.State.SALE).get_state_display() == "Commande client"
    assert str(Ticket._meta.get_field("sale_line").verbose_name) == "Article de la commande client"
    assert str(TimeEntry._meta.verbose_name_plural) == "Feuilles de temps"


def test_quantities_are_written_for_the_reader(french):
    assert quantity(Decimal("4.5"), "hour") == f"4,50{NB}h"
    assert quantity(Decimal("1.25"), "day") == f"1,25{NB}j"
    assert quantity(Decimal("4.5")) == "4,50"
    assert unit_symbol("day") == "j"
    assert money(Decimal("1234.5")) == f"1{NNB}234,50"
    with translation.override("en"):
        assert (quantity(Decimal("4.5"), "hour"), quantity(Decimal("1.25"), "day")) == ("4.50 h", "1.25 d")
        assert money(Decimal("1234.5")) == "1,234.50"

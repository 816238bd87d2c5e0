"""Password guessing: five failed logins of a username from one address lock that pair out for 15 minutes."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import LoginFailure

from ..factories import UserFactory

PASSWORD = "secret-pass-123"  # UserFactory's
LOCKED = "Too many failed logins for this username from your address."


@pytest.fixture
def agent(db):
    return UserFactory(username="agent", role="Agents")


@pytest.fixture
def staff(db):
    return UserFactory(username="boss", role="Managers", is_staff=True)


def login(client, username, password, *, address="203.0.113.7", page="login"):
    return client.post(reverse(page), {"username": username, "password": password}, REMOTE_ADDR=address)


def errors(response) -> str:
    return " ".join(response.context["form"].non_field_errors())


def test_five_wrong_passwords_lock_the_username_from_that_address(client, agent):
    for attempt in range(4):
        assert "Please enter a correct username and password" in errors(login(client, "agent", f"guess-{attempt}"))
    fifth = login(client, "agent", "guess-4")
    assert LOCKED in errors(fifth)
    assert "Try again in 15 minutes" in errors(fifth)

    # Locked: even the right password is not checked, and nobody is signed in.
    right = login(client, "agent", PASSWORD)
    assert right.status_code == 200 and LOCKED in errors(right)
    assert "_auth_user_id" not in client.session
    assert LoginFailure.objects.filter(username="agent").count() == 5


def test_the_lock_is_per_address_and_per_username(client, agent):
    UserFactory(username="colleague")
    for attempt in range(5):
        login(client, "agent", f"guess-{attempt}")
    assert login(Client(), "agent", PASSWORD, address="198.51.100.2").status_code == 302
    assert login(Client(), "colleague", PASSWORD).status_code == 302


def test_the_lock_lifts_after_the_window(client, agent):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for attempt in range(5):
            login(client, "agent", f"guess-{attempt}")
    with time_machine.travel(start + datetime.timedelta(minutes=10), tick=False):
        assert "Try again in 5 minutes" in errors(login(client, "agent", PASSWORD))
    with time_machine.travel(start + datetime.timedelta(minutes=15, seconds=1), tick=False):
        assert login(client, "agent", PASSWORD).status_code == 302


def test_a_successful_login_forgets_the_failures(client, agent):
    for attempt in range(4):
        login(client, "agent", f"guess-{attempt}")
    assert login(client, "agent", PASSWORD).status_code == 302
    assert not LoginFailure.objects.filter(username="agent").exists()
    client.post(reverse("logout"))
    for attempt in range(4):
        login(client, "agent", f"again-{attempt}")
    assert login(client, "agent", PASSWORD).status_code == 302


def test_unknown_usernames_are_throttled_too_without_telling_they_do_not_exist(client, db):
    for attempt in range(4):
        assert "Please enter a correct username and password" in errors(login(client, "nobody", f"g{attempt}"))
    assert LOCKED in errors(login(client, "nobody", "g4"))


def test_the_admin_login_is_throttled_the_same_way(client, staff):
    for attempt in range(5):
        response = login(client, "boss", f"guess-{attempt}", page="admin:login")
    assert LOCKED in errors(response)
    assert LOCKED in errors(login(client, "boss", PASSWORD, page="admin:login"))
    # The lock is the pair's, whichever form was used.
    assert LOCKED in errors(login(client, "boss", PASSWORD))


def test_a_right_password_of_an_account_the_admin_refuses_is_not_counted(client, agent):
    for _ in range(6):
        response = login(client, "agent", PASSWORD, page="admin:login")
        assert "Please enter the correct username and password for a staff account" in errors(response)
    assert not LoginFailure.objects.exists()

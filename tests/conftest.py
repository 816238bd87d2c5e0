import pytest
from django.db import connection

from .factories import TicketFactory, UserFactory, confirmed_line


@pytest.fixture
def agent(db):
    return UserFactory(username="agent", role="Agents")


@pytest.fixture
def manager(db):
    return UserFactory(username="manager", role="Managers", is_staff=True)


@pytest.fixture
def accountant(db):
    return UserFactory(username="accountant", role="Accountants", is_staff=True)


@pytest.fixture
def line_a(db):
    """Order line A: Service on Timesheet, 90/h, 50 h ordered, on a confirmed order."""
    return confirmed_line(quantity=50, price_unit=90)


@pytest.fixture
def ticket(line_a):
    """A ticket of a reinvoicing team, billed to line A."""
    return TicketFactory(customer=line_a.order.customer, sale_line=line_a)


requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's row locks (make test starts one)"
)


@pytest.fixture(autouse=True)
def no_billing_drift(request):
    """After every test that touched the database, every stored billing figure matches the entries,
    and every entry bills the line Rule 4 gives it, of its own customer (placement.misplaced)."""
    uses_db = request.node.get_closest_marker("django_db") or "db" in request.fixturenames
    if uses_db:
        request.getfixturevalue("db")  # set up first, torn down after this check
    yield
    if uses_db:
        from invoicing.selectors import billing_drift

        from .placement import misplaced

        assert [str(d) for d in billing_drift()] == []
        assert misplaced() == []

"""Factories for the domain: each builds a valid object, rules satisfied."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from projects.models import Project, Task
from sales.models import Customer, Product, SaleOrder, SaleOrderLine, ServicePolicy, Tax
from sales.services import sale_order_confirm
from tickets.models import HelpdeskTeam, Ticket


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("secret-pass-123")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n}")
    email = factory.LazyAttribute(lambda c: f"billing{c.name.split()[-1]}@example.com")
    address = "1 Main Street\n1000 Brussels"
    vat_number = "BE0123456789"


class TaxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tax

    name = "VAT 21%"
    rate = Decimal("21.00")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = "Service on Timesheet"
    list_price = Decimal("90.00")
    uom = "hour"
    service_policy = ServicePolicy.DELIVERED_TIMESHEET


class SaleOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SaleOrder

    customer = factory.SubFactory(CustomerFactory)


class SaleOrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SaleOrderLine

    order = factory.SubFactory(SaleOrderFactory)
    product = factory.SubFactory(ProductFactory)
    name = factory.LazyAttribute(lambda line: line.product.name)
    quantity = Decimal("50.00")
    uom = factory.LazyAttribute(lambda line: line.product.uom)
    price_unit = factory.LazyAttribute(lambda line: line.product.list_price)


def confirmed_line(**kwargs) -> SaleOrderLine:
    """Return a line on a confirmed order."""
    line = SaleOrderLineFactory(**kwargs)
    if line.order.state == SaleOrder.State.DRAFT:
        sale_order_confirm(order=line.order)
    line.refresh_from_db()
    return line


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Support {n}")
    billable = True


class TaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Task

    project = factory.SubFactory(ProjectFactory)
    name = factory.Sequence(lambda n: f"Task {n}")


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HelpdeskTeam

    name = factory.Sequence(lambda n: f"Team {n}")
    timesheet_on_ticket = True
    project = factory.SubFactory(ProjectFactory)
    time_reinvoicing = True


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Ticket

    team = factory.SubFactory(TeamFactory)
    customer = factory.SubFactory(CustomerFactory)
    title = factory.Sequence(lambda n: f"Printer {n} is on fire")


def days_ago(n: int) -> datetime.date:
    from django.utils import timezone

    return timezone.localdate() - datetime.timedelta(days=n)


def billable_ticket():
    """Return (line, ticket billed to it, an agent) on a confirmed order."""
    line = confirmed_line()
    return line, TicketFactory(customer=line.order.customer, sale_line=line), UserFactory()

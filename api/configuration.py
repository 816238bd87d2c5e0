"""What managers configure: customers, taxes, products (their rounding), work types, projects
("Billable"), tasks and Helpdesk Teams. Every role reads (agents their teams' projects, tasks and
teams); managers write."""

from django.db import transaction
from django.utils.translation import gettext as _
from django_countries.serializers import CountryFieldMixin
from rest_framework import serializers, viewsets

from core.roles import sees_everything
from projects.models import Project, Task
from projects.selectors import projects_for
from projects.services import project_save, task_create, task_set_sale_line
from sales.models import Customer, Product, Tax, WorkType
from sales.services import customer_save, product_save, work_type_save
from tickets.models import HelpdeskTeam
from tickets.selectors import teams_for
from tickets.services import team_save

from .contacts import CustomerContacts
from .filters import CustomerFilter, ProjectFilter, TaskFilter
from .parsers import ReadsItsBody
from .permissions import ManagersWrite
from .saving import ModelSaveSerializer, ServiceSaveSerializer, model_save

# --- Customers, taxes, products ---------------------------------------------------------


class CustomerSerializer(CountryFieldMixin, ServiceSaveSerializer):
    """A customer; invoices copy its name, address, country and VAT number when posted, go to
    `billing_email` (else `email`), and are due `payment_terms_days` after their date (null: the company's)."""

    class Meta:
        model = Customer
        fields = ["id", "name", "email", "billing_email", "address", "country", "vat_number", "payment_terms_days"]
        extra_kwargs = {"vat_number": {"help_text": "Checked for the customer's country (or its own prefix), "
                                                    "e.g. BE0403019261."}}

    def save_through(self, instance):
        return customer_save(customer=instance, actor=self.context["request"].user)


class CustomerViewSet(ReadsItsBody, CustomerContacts, viewsets.ModelViewSet):
    """Customers: every role reads, managers write; managers and accountants see and invite their portal's
    contacts (`contacts/`)."""

    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    permission_classes = [ManagersWrite]
    filterset_class = CustomerFilter
    ordering_fields = ["id", "name"]


class TaxSerializer(ModelSaveSerializer):
    class Meta:
        model = Tax
        fields = ["id", "name", "rate"]
        # The database refuses more than 100 %; say so on the field.
        extra_kwargs = {"rate": {"max_value": 100}}


class TaxViewSet(ReadsItsBody, viewsets.ModelViewSet):
    """Taxes; `rate` is a percentage (21.00 for 21 %)."""

    queryset = Tax.objects.all()
    serializer_class = TaxSerializer
    permission_classes = [ManagersWrite]
    ordering_fields = ["id", "name", "rate"]


class ProductSerializer(ServiceSaveSerializer):
    """A product; `billing_increment_minutes`, `rounding` and `minimum_minutes` say how its time is billed;
    `alert_delivered_percent` (100 by default, null: never) and `alert_remaining_hours` (prepaid lines; null:
    never) when its lines' accountant is alerted."""

    class Meta:
        model = Product
        fields = ["id", "name", "list_price", "uom", "service_policy", "tax", "billing_increment_minutes",
                  "rounding", "minimum_minutes", "alert_delivered_percent", "alert_remaining_hours"]

    def save_through(self, instance):
        return product_save(product=instance, actor=self.context["request"].user)


class ProductViewSet(ReadsItsBody, viewsets.ModelViewSet):
    """Products; "Service on Timesheet" is `service_policy` = `delivered_timesheet`.

    Time is billed rounded up to `billing_increment_minutes`: each entry (`rounding` = `entry`), or each
    ticket's time on an invoice (`ticket`), raised to `minimum_minutes` per ticket per invoice. A change of
    the rule is audited; unbilled time follows it.
    """

    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    permission_classes = [ManagersWrite]
    filterset_fields = ["service_policy", "uom", "tax", "rounding"]
    ordering_fields = ["id", "name", "list_price"]


# --- Work types -----------------------------------------------------------------------------

class WorkTypeSerializer(ServiceSaveSerializer):
    """A work type: what kind of work time is, and whether it bills."""

    class Meta:
        model = WorkType
        fields = ["id", "name", "billing"]
        extra_kwargs = {"billing": {"help_text": "`billable`; `non_billable`: never reaches a customer; "
                                                 "`no_charge`: shown on the invoice at 0.00."}}

    def save_through(self, instance):
        return work_type_save(work_type=instance, actor=self.context["request"].user)


class WorkTypeViewSet(ReadsItsBody, viewsets.ModelViewSet):
    """Work types ("Remote support", "On-site", "Internal"): what kind of work time is, and whether it bills.

    Time bills the line its work type maps to on the order (the order's `work_type_rates`), else its agent's,
    else its ticket's. A change of `billing` is audited, and the work type's unbilled time follows it. A work
    type still used by time, a team or a rate is not deleted (409). Every role reads; managers write.
    """

    queryset = WorkType.objects.all()
    serializer_class = WorkTypeSerializer
    permission_classes = [ManagersWrite]
    filterset_fields = ["billing"]
    ordering_fields = ["id", "name"]


# --- Projects and tasks -----------------------------------------------------------------

class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name", "customer", "billable", "sale_line"]

    def create(self, validated_data):
        return project_save(project=Project(**validated_data))

    def update(self, instance, validated_data):
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return project_save(project=instance)


class ProjectViewSet(ReadsItsBody, viewsets.ModelViewSet):
    """Projects: managers write; agents see their teams' projects."""

    serializer_class = ProjectSerializer
    permission_classes = [ManagersWrite]
    filterset_class = ProjectFilter
    ordering_fields = ["id", "name"]

    def get_queryset(self):
        return projects_for(user=self.request.user)


class TaskSerializer(serializers.ModelSerializer):
    ticket = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True,
                                                help_text="The ticket linked to this task (set on the ticket).")

    class Meta:
        model = Task
        fields = ["id", "project", "name", "sale_line", "ticket"]

    def create(self, validated_data):
        return task_create(project=validated_data["project"], name=validated_data["name"],
                           sale_line=validated_data.get("sale_line"))

    def validate_project(self, project):
        if self.instance is not None and project != self.instance.project:
            raise serializers.ValidationError(_("A task stays in its project: create a task in the other project."))
        return project

    @transaction.atomic
    def update(self, instance, validated_data):
        if "name" in validated_data:
            instance.name = validated_data["name"]
            model_save(instance)
        if "sale_line" in validated_data:
            instance = task_set_sale_line(task=instance, sale_line=validated_data["sale_line"])
        return instance


class TaskViewSet(ReadsItsBody, viewsets.ModelViewSet):
    """Tasks: managers write; agents see the tasks of their teams' projects."""

    serializer_class = TaskSerializer
    permission_classes = [ManagersWrite]
    filterset_class = TaskFilter
    ordering_fields = ["id", "name", "project"]

    def get_queryset(self):
        tasks = Task.objects.select_related("ticket")
        user = self.request.user
        if sees_everything(user):
            return tasks
        return tasks.filter(project__in=projects_for(user=user))


# --- Helpdesk Teams -----------------------------------------------------------------------

class TeamSerializer(ServiceSaveSerializer):
    """A Helpdesk Team: where its tickets' time goes and how it is invoiced."""

    class Meta:
        model = HelpdeskTeam
        fields = ["id", "name", "timesheet_on_ticket", "project", "time_reinvoicing", "invoiced_timesheets",
                  "timesheets_lock_date", "default_work_type", "portal_tickets", "hold_disputed"]

    def save_through(self, instance):
        return team_save(team=instance, actor=self.context["request"].user)


class TeamViewSet(ReadsItsBody, viewsets.ModelViewSet):
    """Helpdesk Teams: "Timesheet on Ticket" (and its project), "Time Reinvoicing", "Invoiced Timesheets"
    (`all` or `approved`: only approved time counts in Delivered), the team's Timesheets lock date, and the
    `default_work_type` of time logged on its tickets. Managers write."""

    serializer_class = TeamSerializer
    permission_classes = [ManagersWrite]
    filterset_fields = ["timesheet_on_ticket", "time_reinvoicing", "invoiced_timesheets"]
    ordering_fields = ["id", "name"]

    def get_queryset(self):
        return teams_for(user=self.request.user)

"""What managers configure: customers, taxes, products, projects ("Billable"), tasks and
Helpdesk Teams. Every role reads (agents their teams' projects, tasks and teams); managers write."""

from django.db import transaction
from rest_framework import serializers, viewsets

from core.roles import sees_everything
from projects.models import Project, Task
from projects.selectors import projects_for
from projects.services import project_save, task_create, task_set_sale_line
from sales.models import Customer, Product, Tax
from tickets.models import HelpdeskTeam
from tickets.selectors import teams_for
from tickets.services import team_save

from .filters import ProjectFilter, TaskFilter
from .parsers import ReadsItsBody
from .permissions import ManagersWrite
from .saving import ModelSaveSerializer, model_save

# --- Customers, taxes, products ---------------------------------------------------------


class CustomerSerializer(ModelSaveSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "email", "address", "vat_number"]


class CustomerViewSet(ReadsItsBody, viewsets.ModelViewSet):
    """Customers: every role reads, managers write."""

    queryset = Customer.objects.all()
    serializer_class = CustomerSerializer
    permission_classes = [ManagersWrite]
    filterset_fields = ["name", "vat_number"]
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


class ProductSerializer(ModelSaveSerializer):
    class Meta:
        model = Product
        fields = ["id", "name", "list_price", "uom", "service_policy", "tax", "billing_increment_minutes"]


class ProductViewSet(ReadsItsBody, viewsets.ModelViewSet):
    """Products; "Service on Timesheet" is `service_policy` = `delivered_timesheet`."""

    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    permission_classes = [ManagersWrite]
    filterset_fields = ["service_policy", "uom", "tax"]
    ordering_fields = ["id", "name", "list_price"]


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
            raise serializers.ValidationError("A task stays in its project: create a task in the other project.")
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

class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = HelpdeskTeam
        fields = ["id", "name", "timesheet_on_ticket", "project", "time_reinvoicing", "invoiced_timesheets",
                  "timesheets_lock_date"]

    def create(self, validated_data):
        return team_save(team=HelpdeskTeam(**validated_data), actor=self.context["request"].user)

    def update(self, instance, validated_data):
        for name, value in validated_data.items():
            setattr(instance, name, value)
        return team_save(team=instance, actor=self.context["request"].user)


class TeamViewSet(ReadsItsBody, viewsets.ModelViewSet):
    """Helpdesk Teams: "Timesheet on Ticket" (and its project), "Time Reinvoicing", "Invoiced Timesheets"
    (`all` or `approved`: only approved time counts in Delivered), the team's Timesheets lock date.
    Managers write."""

    serializer_class = TeamSerializer
    permission_classes = [ManagersWrite]
    filterset_fields = ["timesheet_on_ticket", "time_reinvoicing", "invoiced_timesheets"]
    ordering_fields = ["id", "name"]

    def get_queryset(self):
        return teams_for(user=self.request.user)

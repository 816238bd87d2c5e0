"""REST API v1 of the projects app: projects ("Billable") and their tasks."""

from django.db import transaction
from django_filters import rest_framework as filters
from rest_framework import serializers, viewsets

from helpdesk_billing.api_parsers import ReadsItsBody
from core.roles import sees_everything
from sales.api import IdFilter, ManagersWrite, model_save

from .models import Project, Task
from .selectors import projects_for
from .services import project_save, task_create, task_set_sale_line


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


class ProjectFilter(filters.FilterSet):
    customer = IdFilter()
    sale_line = IdFilter()

    class Meta:
        model = Project
        fields = ["customer", "billable", "sale_line"]


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


class TaskFilter(filters.FilterSet):
    project = IdFilter()
    sale_line = IdFilter()

    class Meta:
        model = Task
        fields = ["project", "sale_line"]


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

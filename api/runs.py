"""Billing runs: Create Invoices over many orders in the background, then post and send them.

Accountants and managers only. Starting a run or a step answers 202 with the run: the work is done
by jobs (invoicing.runs); poll `GET /billing-runs/{id}/` for its progress.
"""

import datetime

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.errors import Conflict
from core.limits import MAX_ID
from invoicing.models import BillingRun, RunItem, RunStep
from invoicing.runs import run_post, run_send, run_start, stalled, step_resume, steps_progress

from .parsers import ReadsItsBody
from .permissions import InvoicesOnly
from .schema import REFUSED, conflict


class RunStartSerializer(serializers.Serializer):
    orders = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False, allow_null=True,
        allow_empty=False, max_length=100_000,
        help_text="The sales orders to invoice; omit for every confirmed order with something to invoice.")
    period_end = serializers.DateField(required=False, allow_null=True,
                                       help_text="Timesheets up to this date (YYYY-MM-DD); omit for all.")

    def validate_period_end(self, value):
        if value and value > datetime.date.today():
            raise serializers.ValidationError(
                _("The period ends today at the latest: no time is logged in the future."))
        return value


class StepSerializer(serializers.ModelSerializer):
    total = serializers.SerializerMethodField()
    done = serializers.SerializerMethodField()
    refused = serializers.SerializerMethodField()
    stalled = serializers.SerializerMethodField(help_text="Its worker stopped reporting: `resume` it.")

    class Meta:
        model = RunStep
        fields = ["id", "kind", "state", "total", "done", "refused", "stalled", "created_at", "finished_at"]
        read_only_fields = fields

    def _progress(self, step):
        return self.context["progress"][step.pk]

    def get_total(self, step) -> int:
        return self._progress(step)["total"]

    def get_done(self, step) -> int:
        return self._progress(step)["done"]

    def get_refused(self, step) -> int:
        return self._progress(step)["refused"]

    def get_stalled(self, step) -> bool:
        return stalled(step)


class RefusalSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    step = serializers.CharField()
    reason = serializers.CharField()


class RunSerializer(serializers.ModelSerializer):
    """A run and its progress: `state` is its latest step's; `total`, `done` and `refused` count the
    orders of Create Invoices; `invoices` are those it created."""

    state = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()
    done = serializers.SerializerMethodField()
    refused = serializers.SerializerMethodField()
    invoices = serializers.SerializerMethodField()
    steps = serializers.SerializerMethodField()

    class Meta:
        model = BillingRun
        fields = ["id", "period_end", "created_by", "created_at", "state", "total", "done", "refused", "invoices",
                  "steps"]
        read_only_fields = fields

    def _steps(self, run) -> list[RunStep]:
        return sorted(run.steps.all(), key=lambda step: step.pk)

    def _create(self, run) -> RunStep:
        return next(step for step in self._steps(run) if step.kind == RunStep.Kind.CREATE)

    def get_state(self, run) -> str:
        return self._steps(run)[-1].state

    def get_total(self, run) -> int:
        return self.context["progress"][self._create(run).pk]["total"]

    def get_done(self, run) -> int:
        return self.context["progress"][self._create(run).pk]["done"]

    @extend_schema_field(RefusalSerializer(many=True))
    def get_refused(self, run) -> list[dict]:
        items = RunItem.objects.filter(step__run=run, state=RunItem.State.REFUSED).select_related("step")
        return [{"order": item.order_id, "step": item.step.kind, "reason": item.reason} for item in items]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_invoices(self, run) -> list[int]:
        return list(self._create(run).items.filter(state=RunItem.State.DONE).order_by("pk")
                    .values_list("invoice_id", flat=True))

    @extend_schema_field(StepSerializer(many=True))
    def get_steps(self, run) -> list[dict]:
        return StepSerializer(self._steps(run), many=True, context=self.context).data


class BillingRunViewSet(ReadsItsBody, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Billing runs: start one over every order with something to invoice (or those named), follow its
    progress, then post and send its invoices."""

    serializer_class = RunSerializer
    permission_classes = [InvoicesOnly]
    queryset = BillingRun.objects.prefetch_related("steps")
    ordering_fields = ["id", "created_at"]

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "progress": _Progress()}

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        context = {**self.get_serializer_context(),
                   "progress": steps_progress([step.pk for run in page for step in run.steps.all()])}
        return self.get_paginated_response(RunSerializer(page, many=True, context=context).data)

    def _answer(self, run, code=status.HTTP_200_OK):
        run = self.get_queryset().get(pk=run.pk)
        return Response(self.get_serializer(run).data, status=code)

    @extend_schema(request=RunStartSerializer, responses={202: RunSerializer, 400: REFUSED})
    def create(self, request, *args, **kwargs):
        """Start a run: 202, then its jobs create one draft invoice per order."""
        data = RunStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = run_start(order_ids=data.validated_data.get("orders"),
                        period_end=data.validated_data.get("period_end"), actor=request.user)
        return self._answer(run, status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: RunSerializer, 400: REFUSED,
                                            409: conflict("The run is still creating its invoices, or posts once.")})
    @action(detail=True, methods=["post"], url_path="post", url_name="post")
    def post_invoices(self, request, pk=None):
        """Post the run's draft invoices, in the background."""
        run = self.get_object()
        run_post(run=run, actor=request.user)
        return self._answer(run, status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: RunSerializer, 400: REFUSED,
                                            409: conflict("The run is still creating or posting, or sends once.")})
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Send the run's posted invoices by email to their customers, in the background."""
        run = self.get_object()
        run_send(run=run, actor=request.user)
        return self._answer(run, status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: RunSerializer, 409: conflict("Only a stalled step resumes.")})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Resume the run's stalled steps (their worker was lost): another worker goes on from where they were."""
        run = self.get_object()
        steps = [step for step in run.steps.all() if stalled(step)]
        if not steps:
            raise Conflict(_("{run} has no stalled step: its workers are at work, or it is done.").format(run=run))
        for step in steps:
            step_resume(step=step, actor=request.user)
        return self._answer(run, status.HTTP_202_ACCEPTED)


class _Progress(dict):
    """Each step's progress, counted when first asked (one run's answer); a list counts all at once."""

    def __missing__(self, step_id):
        self.update(steps_progress([step_id]))
        return self[step_id]

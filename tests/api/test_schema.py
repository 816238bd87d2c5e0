"""The OpenAPI schema, the docs, authentication, and unknown paths."""

import io

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command

from .conftest import API

PATHS = [
    "/customers/", "/customers/{id}/", "/taxes/", "/taxes/{id}/", "/products/", "/products/{id}/",
    "/work-types/", "/work-types/{id}/",
    "/projects/", "/projects/{id}/", "/tasks/", "/tasks/{id}/", "/teams/", "/teams/{id}/",
    "/tickets/", "/tickets/{id}/", "/tickets/{id}/history/",
    "/sale-orders/", "/sale-orders/{id}/", "/sale-orders/{id}/confirm/",
    "/sale-orders/{id}/cancel/", "/sale-orders/{id}/create-invoice/", "/sale-orders/{id}/invoice-preview/",
    "/sale-orders/{id}/lines/{line_id}/",
    "/timesheets/", "/timesheets/{id}/", "/timesheets/approve/", "/timesheets/reject/", "/timesheets/week/",
    "/timesheets/{id}/reinstate/", "/invoices/", "/invoices/{id}/", "/invoices/{id}/post/",
    "/invoices/{id}/cancel/", "/invoices/{id}/remove-timesheets/", "/invoices/{id}/write-off/",
    "/invoices/{id}/credit-note/",
    "/invoices/{id}/pdf/", "/invoices/{id}/send/", "/invoices/{id}/facturx/", "/invoices/{id}/ubl/",
    "/invoices/{id}/payments/", "/invoices/{id}/payments/{payment_id}/reverse/", "/invoices/{id}/due-date/",
    "/reports/time/", "/reports/time/entries/", "/reports/unbilled/", "/reports/revenue/", "/reports/prepaid/",
    "/reports/prepaid/{line_id}/burndown/", "/overview/", "/alerts/", "/alerts/{id}/clear/",
    "/company/",
    "/billing-runs/", "/billing-runs/{id}/", "/billing-runs/{id}/post/", "/billing-runs/{id}/send/",
    "/billing-runs/{id}/resume/",
    # The customer portal (issue 18): the staff's side, and the contacts' own API.
    "/customers/{id}/contacts/", "/contacts/", "/contacts/{id}/reinvite/", "/contacts/{id}/deactivate/",
    "/tickets/{id}/messages/", "/disputes/", "/timesheets/{id}/resolve/",
    "/portal/me/", "/portal/teams/", "/portal/tickets/", "/portal/tickets/{id}/", "/portal/tickets/{id}/messages/",
    "/portal/timesheets/", "/portal/timesheets/{id}/", "/portal/timesheets/{id}/acknowledge/",
    "/portal/timesheets/{id}/dispute/", "/portal/lines/", "/portal/invoices/", "/portal/invoices/{id}/",
    "/portal/invoices/{id}/pdf/",
]


def test_schema_lists_every_path(anonymous_api):
    response = anonymous_api.get(f"{API}/schema/?format=json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert sorted(schema["paths"]) == sorted(f"{API}{path}" for path in PATHS)
    assert schema["components"]["securitySchemes"]["tokenAuth"] == {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": 'Token-based authentication with required prefix "Token"'}


def test_schema_describes_fields_and_refusals(anonymous_api):
    schema = anonymous_api.get(f"{API}/schema/?format=json").json()
    components = schema["components"]["schemas"]

    assert components["TimeEntry"]["properties"]["hours"] == {
        "type": "string", "format": "decimal", "pattern": r"^-?\d{0,3}(?:\.\d{0,2})?$", "readOnly": True}
    assert components["TimeEntryWriteRequest"]["properties"]["duration"]["oneOf"] == [
        {"type": "string", "example": "1:30"}, {"type": "number", "example": 1.5}]
    post = schema["paths"][f"{API}/invoices/{{id}}/post/"]["post"]
    assert sorted(post["responses"]) == ["200", "400", "401", "403", "404", "409"]
    pdf = schema["paths"][f"{API}/invoices/{{id}}/pdf/"]["get"]["responses"]["200"]
    assert list(pdf["content"]) == ["application/pdf"]
    create = schema["paths"][f"{API}/sale-orders/{{id}}/create-invoice/"]["post"]
    assert sorted(create["responses"]) == ["201", "400", "401", "403", "404"]


def test_schema_documents_work_types_rates_and_rounding(anonymous_api):
    schema = anonymous_api.get(f"{API}/schema/?format=json").json()
    components = schema["components"]["schemas"]

    assert sorted(components["WorkType"]["properties"]) == ["billing", "id", "name"]
    assert components["BillingEnum"]["enum"] == ["billable", "non_billable", "no_charge"]
    assert sorted(schema["paths"][f"{API}/work-types/{{id}}/"]) == ["delete", "get", "patch", "put"]
    assert sorted(schema["paths"][f"{API}/work-types/{{id}}/"]["delete"]["responses"]) == [
        "204", "401", "403", "404", "409"]
    assert components["TimeEntry"]["properties"]["work_type"]["readOnly"] is True
    assert components["TimeEntryWriteRequest"]["properties"]["work_type"]["nullable"] is True
    assert {"rounding", "minimum_minutes"} <= set(components["Product"]["properties"])
    assert "default_work_type" in components["Team"]["properties"]
    # An order's rates: read on the order, written by PATCH.
    assert components["SaleOrder"]["properties"]["agent_rates"]["items"] == {"$ref": "#/components/schemas/AgentRate"}
    assert components["SaleOrder"]["properties"]["work_type_rates"]["items"] == {
        "$ref": "#/components/schemas/WorkTypeRate"}
    assert "rounding_minutes" in components["SaleOrderLine"]["properties"]
    patch = schema["paths"][f"{API}/sale-orders/{{id}}/"]["patch"]
    assert patch["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PatchedSaleOrderRatesRequest"}
    assert sorted(components["PatchedSaleOrderRatesRequest"]["properties"]) == ["agent_rates", "work_type_rates"]
    assert sorted(components["AgentRateInputRequest"]["required"]) == ["sale_line", "user"]
    # What an invoice line bills and why.
    assert {"explanation", "rounding_minutes", "entry_count", "worked_minutes", "charges"} <= set(
        components["InvoiceLine"]["properties"])
    assert sorted(components["TicketCharge"]["properties"]) == ["billed", "entries", "minutes", "task", "ticket"]
    # Create Invoice's preview.
    preview = schema["paths"][f"{API}/sale-orders/{{id}}/invoice-preview/"]["post"]
    assert sorted(preview["responses"]) == ["200", "400", "401", "403", "404"]
    assert preview["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/InvoicePreview"}
    assert sorted(components["InvoicePreview"]["properties"]) == [
        "amount_tax", "amount_total", "amount_untaxed", "error", "left_out", "lines"]
    assert components["InvoicePreview"]["properties"]["amount_total"]["nullable"] is True
    assert sorted(components["InvoicePreviewLine"]["properties"]) == [
        "amount_untaxed", "explanation", "minutes", "name", "price_unit", "quantity", "rounding_minutes", "sale_line",
        "uom"]
    assert sorted(components["LeftOutEntry"]["properties"]) == ["date", "id", "minutes", "reason", "ticket", "user"]


def test_schema_is_valid_openapi():
    out = io.StringIO()

    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", stdout=out)

    assert '"openapi": "3.0.3"' in out.getvalue()


def test_docs_work_offline(anonymous_api):
    response = anonymous_api.get(f"{API}/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert anonymous_api.get(f"{API}/redoc/").status_code == 200


def test_unknown_api_paths_answer_json(manager_api):
    response = manager_api.get(f"{API}/nothing/here/")

    assert response.status_code == 404
    assert response.json() == {"detail": "There is no /api/v1/nothing/here/ in this API."}


def test_a_token_from_the_command_works(agent, team_ticket):
    from rest_framework.test import APIClient

    out = io.StringIO()
    call_command("drf_create_token", "agent", stdout=out)
    key = out.getvalue().split()[2]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = client.get(f"{API}/tickets/")

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_the_browser_session_works_too(client, agent, team_ticket):
    client.force_login(agent)

    response = client.get(f"{API}/tickets/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_a_missing_slash_is_pointed_out(manager_api):
    response = manager_api.post(f"{API}/timesheets", {"duration": "1:00"})

    assert response.status_code == 404
    assert response.json() == {
        "detail": "There is no /api/v1/timesheets in this API: did you mean /api/v1/timesheets/ (with a slash)?"}


@pytest.mark.parametrize("path", ["customers", "taxes", "products", "work-types", "projects", "tasks", "teams",
                                  "tickets", "sale-orders", "timesheets", "invoices", ""])
def test_the_browsable_api_renders(client, manager, team_ticket, path):
    client.force_login(manager)

    response = client.get(f"{API}/{path}/".replace("//", "/"), HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"

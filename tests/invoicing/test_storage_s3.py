"""Stored PDFs in an S3-compatible bucket (django-storages), as settings.py configures it from S3_* variables:
rendered once by the job, downloaded from the bucket, a lost object answered with the command to run.

The bucket is moto's S3 server on loopback, a real HTTP endpoint that boto3 talks to as to any other.
"""

import boto3
import pytest
from django.urls import reverse
from moto.server import ThreadedMotoServer

from helpdesk_billing.settings import s3_storage
from invoicing.services import invoice_create_from_order, invoice_post
from timesheets.services import timesheet_log

from ..factories import days_ago
from ..jobs import run_jobs

BUCKET = "helpdesk-invoices"
KEYS = {"S3_ACCESS_KEY_ID": "test-key", "S3_SECRET_ACCESS_KEY": "test-secret", "S3_REGION": "eu-west-1"}


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, settings):
    """An empty bucket, and the default storage pointed at it as S3_* variables would."""
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=KEYS["S3_REGION"],
                          aws_access_key_id=KEYS["S3_ACCESS_KEY_ID"],
                          aws_secret_access_key=KEYS["S3_SECRET_ACCESS_KEY"])
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": KEYS["S3_REGION"]})
    # Changing STORAGES resets default_storage (django.test.signals.storages_changed), here and when put back.
    settings.STORAGES = {**settings.STORAGES, "default": s3_storage(
        {**KEYS, "S3_BUCKET": BUCKET, "S3_ENDPOINT_URL": s3_endpoint, "S3_PREFIX": "billing"})}
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def test_a_posted_invoices_pdf_is_stored_in_the_bucket_and_downloaded_from_it(bucket, agent, ticket, line_a,
                                                                                client, accountant):
    timesheet_log(user=agent, date=days_ago(1), minutes=90, ticket=ticket, description="Reset the router")
    invoice = invoice_post(invoice=invoice_create_from_order(order=line_a.order))
    run_jobs()

    invoice.refresh_from_db()
    key = f"billing/{invoice.pdf.name}"
    assert invoice.pdf.name == f"invoices/{invoice.invoice_date:%Y}/{invoice.number.replace('/', '-')}.pdf"
    assert [item["Key"] for item in bucket.list_objects_v2(Bucket=BUCKET)["Contents"]] == [key]
    stored = bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert stored.startswith(b"%PDF")
    # Private: only the download view, which checks who asks, serves it.
    grants = bucket.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    assert [grant["Permission"] for grant in grants] == ["FULL_CONTROL"]

    client.force_login(accountant)
    response = client.get(reverse("invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{invoice.number.replace("/", "-")}.pdf"'
    assert b"".join(response.streaming_content) == stored

    bucket.delete_object(Bucket=BUCKET, Key=key)  # lost from the bucket
    response = client.get(reverse("invoice_pdf", args=[invoice.pk]))
    assert response.status_code == 503
    assert "render_missing_pdfs" in response.content.decode()

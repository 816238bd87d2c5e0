"""Settings for the test suite: the real settings, with a fast password hasher and files in a scratch folder."""

import os
import tempfile
from pathlib import Path

from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Stored PDFs go to a folder of this run's own; worker processes a test starts are given the same one.
MEDIA_ROOT = Path(os.environ.get("TEST_MEDIA_ROOT") or tempfile.mkdtemp(prefix="helpdesk-media-"))
os.environ["TEST_MEDIA_ROOT"] = str(MEDIA_ROOT)
# Email goes to django.core.mail.outbox (pytest-django), unless a test points it at an SMTP server.
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

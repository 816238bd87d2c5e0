"""Settings of the benchmark process: the project's own, in production mode, on the bench databases.

`default` starts on the small data set; `bench.db.use` points it at another one.
"""

import os

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")  # plain HTTP on loopback

from helpdesk_billing.settings import *  # noqa: E402,F403
from helpdesk_billing.settings import DATABASES as _PROJECT_DATABASES  # noqa: E402

DATABASE_NAMES = {"template": "hb_bench_template", "small": "hb_bench_small", "large": "hb_bench_large"}
_server = {**_PROJECT_DATABASES["default"], "CONN_MAX_AGE": None, "CONN_HEALTH_CHECKS": False}
DATABASES = {alias: {**_server, "NAME": name} for alias, name in DATABASE_NAMES.items()}
DATABASES["default"] = {**_server, "NAME": DATABASE_NAMES["small"]}

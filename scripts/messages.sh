#!/bin/sh
# Extract every translatable string into its app's French catalogue, then compile the catalogues
# (README, Languages). Each app keeps its own: <app>/locale/fr/LC_MESSAGES/django.po; the project's
# templates/ and helpdesk_billing/ go to locale/. Needs GNU gettext (xgettext, msgmerge, msgfmt).
# Usage: scripts/messages.sh [PYTHON] [APP...]   (default: every app, then the project's own files)
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${1:-.venv/bin/python}
case "$PY" in /*) ;; *) PY="$ROOT/$PY" ;; esac
[ $# -gt 0 ] && shift
APPS=${*:-"core audit sales projects tickets timesheets invoicing reports web api backoffice portal ."}
for app in $APPS; do
    mkdir -p "$app/locale"
    if [ "$app" = "." ]; then
        # the project's own files only: every app folder above has its catalogue
        (cd "$ROOT" && "$PY" manage.py makemessages -l fr --no-location --no-obsolete -i ".venv/*" -i "tests/*" \
            -i "bench/*" -i "scripts/*" -i "staticfiles/*" \
            -i "core/*" -i "audit/*" -i "sales/*" -i "projects/*" -i "tickets/*" -i "timesheets/*" \
            -i "invoicing/*" -i "reports/*" -i "web/*" -i "api/*" -i "backoffice/*" -i "portal/*" >/dev/null)
    else
        (cd "$ROOT/$app" && "$PY" "$ROOT/manage.py" makemessages -l fr --no-location --no-obsolete -i "migrations/*" >/dev/null)
    fi
    (cd "$ROOT/$app" && "$PY" "$ROOT/manage.py" compilemessages -l fr >/dev/null)
done

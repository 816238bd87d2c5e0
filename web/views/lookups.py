"""The searchable selects' questions: `GET /lookup/<kind>/?q=text&page=N` answers a page of the rows the field
of that kind accepts, as {"results": [{"id", "text"}], "more": bool}. Kinds and their rows: web.lookups."""

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.utils.translation import gettext as _

from core.limits import SEARCH_LENGTH

from ..lookups import KINDS, search
from .base import refuse_unless

PER_PAGE = 20
# Past this page a list is better searched than paged; a larger page number is a mistake, not a request.
MAX_PAGE = 10_000


def _refused(message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=400)


def _page_number(value: str) -> int | None:
    if value == "":
        return 1
    if value.isascii() and value.isdigit() and len(value) <= 5 and 1 <= int(value) <= MAX_PAGE:
        return int(value)
    return None


@login_required
def lookup(request, kind: str, pk: int | None = None):
    """A page of the rows of `kind` holding the text `q`; of the object `pk` for a dependent list (404 when
    the user may not see it)."""
    spec = KINDS[kind]
    refuse_unless(not spec.permission or request.user.has_perm(spec.permission))
    text = request.GET.get("q", "")
    if len(text) > SEARCH_LENGTH or "\x00" in text:  # PostgreSQL refuses a NUL in a text
        return _refused(_("Search with at most {count} characters, without NUL.").format(count=SEARCH_LENGTH))
    number = _page_number(request.GET.get("page", ""))
    if number is None:
        return _refused(_("page is a number from 1 to {last}.").format(last=MAX_PAGE))
    rows = spec.rows(user=request.user, of=spec.of(request.user, pk)) if spec.of else spec.rows(user=request.user)
    start = (number - 1) * PER_PAGE
    found = list(search(rows, spec, text.strip())[start:start + PER_PAGE + 1])  # one more: is there a next page
    return JsonResponse({"results": [{"id": str(row.pk), "text": spec.label(row)} for row in found[:PER_PAGE]],
                         "more": len(found) > PER_PAGE})


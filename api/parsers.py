"""Reading the API's request bodies: whatever a body holds, it is read or refused with a 400, never a 500.

DRF's JSONParser turns the errors it expects (`ValueError`: bad syntax, invalid UTF-8, an integer
of more than 4,300 digits, NaN) into a 400 `{"detail": "JSON parse error - ..."}`, but lets a
body nested deeper than Python's recursion limit out as a RecursionError, a 500. This parser
refuses, with the same kind of 400, every body nested deeper than `MAX_DEPTH`: the API's bodies
hold two levels (an order's lines), so a deeper one is never meant, and whether Python itself
could read it (a few thousand levels, depending on the interpreter) no longer matters.

An empty body is no body (DRF reads it as `{}`): the fields it lacks are named, and an action that
takes no input runs, as when a client sends `Content-Type: application/json` and nothing else.

DRF parses a body when the view first reads `request.data`; a view that takes no input never
does. `ReadsItsBody` makes a view read the body of every write first, so that a body which cannot
be read is refused before anything is done, whatever the view needs of it.
"""

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 32
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def too_deep() -> ParseError:
    """Return the refusal of a body nested deeper than `MAX_DEPTH` levels, in the request's language."""
    return ParseError(_("JSON parse error - the body is nested deeper than {depth} levels.").format(depth=MAX_DEPTH))


def nested_deeper_than(data, limit: int) -> bool:
    """Return whether lists and objects in `data` nest more than `limit` levels (walked without recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth > limit:
                return True
            stack.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, which also refuses bodies nested deeper than `MAX_DEPTH` levels with a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise too_deep() from None
        if nested_deeper_than(data, MAX_DEPTH):
            raise too_deep()
        return data


class ReadsItsBody:
    """A mixin for API views: the body of every write is parsed before the view acts (400 or 415 if it cannot be)."""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in WRITES:
            request.data  # noqa: B018 (parsed now, or refused)

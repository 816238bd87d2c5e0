from django.core.exceptions import ValidationError


class Conflict(ValidationError):
    """A refusal because of a document's state, not its input (HTTP 409).

    Examples: editing invoiced time, posting a posted invoice.
    """

from django.core.exceptions import ValidationError


def error_message(error: ValidationError) -> str:
    """A refusal's messages as one sentence or more, as screens, the admin, the API and job reports show it."""
    return " ".join(error.messages)


class Conflict(ValidationError):
    """A refusal because of a document's state, not its input (HTTP 409).

    Examples: editing invoiced time, posting a posted invoice.
    """

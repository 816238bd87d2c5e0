"""What input may hold, whichever interface it comes through (screens, API, admin)."""

# The largest primary key (a 64-bit column): SQLite cannot even bind a larger integer, where
# PostgreSQL finds no row, so a larger id is refused as input, not sent to the database.
MAX_ID = 2**63 - 1

# The longest text a search box looks in (a ticket's title). SQLite refuses a LIKE pattern of more
# than 50,000 bytes, and no longer search could match more than its first 300 characters do.
SEARCH_LENGTH = 300


def searchable(text: str) -> str:
    """Return `text` as a search sends it to the database: without NUL characters (PostgreSQL refuses them in
    text, and no stored text holds one), cut to SEARCH_LENGTH characters, stripped."""
    return text.replace("\x00", "")[:SEARCH_LENGTH].strip()

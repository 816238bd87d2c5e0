"""Trigram indexes for the search boxes, on PostgreSQL only (SQLite's plain match reads the table), and the
condition that keeps a search on a related record's name on them.

Django sends `text__icontains="toner"` to PostgreSQL as `UPPER("table"."text"::text) LIKE UPPER('%toner%')`:
no B-tree helps a pattern that starts with `%`, but a GIN index of the trigrams of that very expression
does (pg_trgm), so PostgreSQL finds the matching rows without reading the table. A search of fewer than
three characters has no trigram and still reads the table.
"""

from django.db.migrations.operations.base import Operation
from django.db.models import Q, QuerySet

# The most ids `in_matching` lists in a query; past that, a subquery.
LISTED = 1000


def in_matching(field: str, matches: QuerySet) -> Q:
    """Return the condition "`field` is one of `matches`" (e.g. the customer is one whose name matches), as a
    list of ids read first.

    A search ORs conditions on the searched table; PostgreSQL reads each from an index and ORs the bitmaps,
    unless one is on a joined table or a subquery: then it reads every row of the searched table. The
    matches are read first (from their own trigram index) and the condition is the foreign key's index.
    More than LISTED matches (a word most names hold): a subquery, which then reads the table.
    """
    ids = list(matches.order_by().values_list("pk", flat=True)[:LISTED + 1])
    if len(ids) > LISTED:
        return Q(**{f"{field}__in": matches.order_by().values("pk")})
    return Q(**{f"{field}__in": ids})  # none: Django leaves the condition out of the OR


class TrigramIndex(Operation):
    """Create the GIN trigram index `name` on UPPER(`column`::text) of `table`, on PostgreSQL; nothing elsewhere.

    The index is no part of the models' state (Django's own indexes cannot name the expression on one
    database only), so `makemigrations` neither sees nor drops it. pg_trgm must be installed first
    (django.contrib.postgres.operations.TrigramExtension, itself a no-op on other databases).
    """

    reversible = True

    def __init__(self, name: str, table: str, column: str):
        self.name, self.table, self.column = name, table, column

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            quote = schema_editor.quote_name
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {quote(self.name)} ON {quote(self.table)} "
                                  f"USING gin ((UPPER({quote(self.column)}::text)) gin_trgm_ops)")

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(self.name)}")

    def describe(self):
        return f"Create the trigram index {self.name} on {self.table}.{self.column} (PostgreSQL only)"

    @property
    def migration_name_fragment(self):
        return self.name

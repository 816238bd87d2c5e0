"""`make bench`: the performance benchmark at two sizes, up to a million time entries.

Run as `python -m bench` against a PostgreSQL server named by DATABASE_URL (`make bench`
starts a throwaway one). It creates its own databases there, fills them set-based, times
every figure of issue 5 at both sizes and writes docs/performance.md.
"""

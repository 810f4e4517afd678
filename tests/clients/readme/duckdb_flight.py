# The README's DuckDB snippet, run by serve::arrow::readme_snippets_run (argv[1]: the Flight SQL URI).
import sys

import adbc_driver_flightsql.dbapi as flightsql
import duckdb

uri = sys.argv[1] if len(sys.argv) > 1 else "grpc://127.0.0.1:50051"
with flightsql.connect(uri) as conn:
    cur = conn.cursor()
    cur.execute("SELECT id, currency, amount, created FROM charges")
    charges = cur.fetch_arrow_table()  # a pyarrow.Table; DuckDB reads it by its variable name
print(duckdb.sql("SELECT currency, sum(amount) AS total FROM charges GROUP BY currency ORDER BY currency").fetchall())

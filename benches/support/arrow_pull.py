"""Pulls the same rows into a pyarrow Table three ways, for benches/arrow_clients.rs.

usage: arrow_pull.py PG_PORT FLIGHT_PORT SOURCE_SQL ROWS [METHOD,...]
Each client first copies SOURCE_SQL into a table of its own session
(`CREATE TABLE bench AS ...`, one Stripe scan each, not timed), then times
`SELECT * FROM bench` into a pyarrow Table:
  flight     ADBC Flight SQL driver (Arrow record batches)
  adbc_pg    ADBC PostgreSQL driver (binary COPY)
  psycopg    psycopg row fetches, turned into a Table column by column
Prints one JSON object {method: {"rows": n, "seconds": s}}.
"""
import json
import sys
import time

import pyarrow

pg_port, flight_port, source, expected = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
chosen = sys.argv[5].split(",") if len(sys.argv) > 5 else ["flight", "adbc_pg", "psycopg"]
pg_uri = f"postgresql://stripe@127.0.0.1:{pg_port}/stripe?sslmode=disable"
create = f"CREATE TABLE bench AS {source}"
pull = "SELECT * FROM bench"


def adbc(dbapi, uri):
    with dbapi.connect(uri) as conn:
        cur = conn.cursor()
        cur.execute(create)
        started = time.perf_counter()
        cur.execute(pull)
        table = cur.fetch_arrow_table()
        return table.num_rows, time.perf_counter() - started


def flight():
    import adbc_driver_flightsql.dbapi as dbapi

    return adbc(dbapi, f"grpc://127.0.0.1:{flight_port}")


def adbc_pg():
    import adbc_driver_postgresql.dbapi as dbapi

    return adbc(dbapi, pg_uri)


def psycopg_rows():
    import psycopg

    with psycopg.connect(pg_uri, autocommit=True) as conn:
        cur = conn.cursor()
        cur.execute(create)
        started = time.perf_counter()
        cur.execute(pull)
        rows = cur.fetchall()
        names = [d.name for d in cur.description]
        table = pyarrow.table({n: [r[i] for r in rows] for i, n in enumerate(names)})
        return table.num_rows, time.perf_counter() - started


out = {}
for name, method in [("flight", flight), ("adbc_pg", adbc_pg), ("psycopg", psycopg_rows)]:
    if name not in chosen:
        continue
    rows, seconds = method()
    if rows != expected:
        raise SystemExit(f"{name} read {rows} rows, not {expected}")
    out[name] = {"rows": rows, "seconds": seconds}
print(json.dumps(out))

"""Reads query results through the Arrow-native drivers, for the serve tests.

usage: arrow_python.py DRIVER URI CASES.json
  DRIVER   adbc_pg     ADBC PostgreSQL driver (libpq; binary COPY for queries)
           connectorx  polars.read_database_uri(engine="connectorx") (binary COPY)
           flight      ADBC Flight SQL driver
           flight_errors  runs each `sql` of CASES over Flight SQL (on
                       connection `conn`, default 0; after `sleep_before`
                       seconds; `close`: closes that connection) and prints
                       {"errors": {name: text or null}, "rows": {name: rows}};
                       a 4th argument is the password
  CASES    [{"name": ..., "sql": ..., "params": [...], "literal_sql": ...}]
           connectorx cannot bind parameters: it runs `literal_sql` instead.
Prints one JSON object: {"cases": {name: [row, ...]}, "objects": [...]} where
each row is a dict with timestamps as ISO-8601 UTC text and JSON/map values
as objects, so rows compare with `stripe-sql --format json`.
"""
import datetime
import decimal
import json
import sys
import time


def norm(name, value):
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        value = value.astimezone(datetime.timezone.utc)
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
        if value.microsecond:
            text += "." + f"{value.microsecond:06d}".rstrip("0")
        return text + "Z"
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list) and all(isinstance(v, tuple) and len(v) == 2 for v in value):
        return {k: v for k, v in value}
    if isinstance(value, str) and name in ("metadata", "json") and value[:1] in ("{", "["):
        return json.loads(value)
    return value


def rows_of(records):
    return [{k: norm(k, v) for k, v in r.items()} for r in records]


def run_adbc(dbapi, uri, cases, **kwargs):
    out, objects = {}, None
    with dbapi.connect(uri, **kwargs) as conn:
        cur = conn.cursor()
        for case in cases:
            params = case.get("params")
            cur.execute(case["sql"], params) if params else cur.execute(case["sql"])
            out[case["name"]] = rows_of(cur.fetch_arrow_table().to_pylist())
        # Both drivers list the stripe schema's tables (the PostgreSQL one only
        # under the database named at connect, so its name must match).
        objs = conn.adbc_get_objects(depth="tables", db_schema_filter="stripe").read_all().to_pylist()
        objects = {
            "catalogs": sorted(c["catalog_name"] for c in objs if c["catalog_db_schemas"]),
            "tables": sorted(
                t["table_name"]
                for c in objs
                for s in (c["catalog_db_schemas"] or [])
                for t in (s["db_schema_tables"] or [])
            ),
        }
        if not dbapi.__name__.startswith("adbc_driver_flightsql"):
            # The PostgreSQL driver's table-schema lookup reads pg_catalog directly.
            objects["columns"] = conn.adbc_get_table_schema("charges", db_schema_filter="stripe").names
    return out, objects


def main():
    driver, uri, cases_file = sys.argv[1], sys.argv[2], sys.argv[3]
    cases = json.load(open(cases_file))
    objects = None
    if driver == "adbc_pg":
        import adbc_driver_postgresql.dbapi as dbapi

        out, objects = run_adbc(dbapi, uri, cases)
    elif driver == "flight":
        import adbc_driver_flightsql.dbapi as dbapi

        kwargs = {}
        if len(sys.argv) > 4:
            kwargs["db_kwargs"] = {"username": "stripe", "password": sys.argv[4]}
        out, objects = run_adbc(dbapi, uri, cases, **kwargs)
    elif driver == "flight_errors":
        import adbc_driver_flightsql.dbapi as dbapi

        kwargs = {}
        if len(sys.argv) > 4:
            kwargs["db_kwargs"] = {"username": "stripe", "password": sys.argv[4]}
        if uri.startswith("grpc+tls://"):
            # The tests' certificate is self-signed.
            kwargs.setdefault("db_kwargs", {})["adbc.flight.sql.client_option.tls_skip_verify"] = "true"
        errors, rows, conns = {}, {}, {}
        for case in cases:
            time.sleep(case.get("sleep_before", 0))
            if case.get("close"):
                conns.pop(case.get("conn", 0)).close()
                continue
            n = case.get("conn", 0)
            try:
                if n not in conns:
                    conns[n] = dbapi.connect(uri, **kwargs)
                cur = conns[n].cursor()
                cur.execute(case["sql"])
                rows[case["name"]] = rows_of(cur.fetch_arrow_table().to_pylist())
                errors[case["name"]] = None
            except Exception as e:  # the driver's error text carries our SQLSTATE
                errors[case["name"]] = str(e)
        for conn in conns.values():
            conn.close()
        print(json.dumps({"errors": errors, "rows": rows}, default=str))
        return
    elif driver == "connectorx":
        import polars

        out = {}
        for case in cases:
            if case["name"] == "requests":
                continue  # a new connection per query: no previous statement to ask about
            sql = case.get("literal_sql") or case["sql"]
            frame = polars.read_database_uri(sql, uri, engine="connectorx")
            out[case["name"]] = rows_of(frame.to_dicts())
    else:
        raise SystemExit(f"unknown driver {driver}")
    print(json.dumps({"cases": out, "objects": objects}, default=str))


if __name__ == "__main__":
    main()

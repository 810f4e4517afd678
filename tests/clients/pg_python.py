"""Drives `stripe-sql serve` with Python's Postgres stack for the serve tests.

usage: pg_python.py PORT MODE [ARG]
  params EMAIL   psycopg with a server-side $1 parameter; prints the rows and
                 the Stripe requests the statement made (stripe_last_requests)
  inspect        SQLAlchemy inspect(): table names and the columns of customers
  revenue        pandas.read_sql of a monthly revenue aggregate
  cancel         starts a slow query, cancels it from another thread
  types          compares each result column's type OID with pg_attribute's
  pipeline       the statements of tests/integration/pipeline.rs over the
                 extended protocol (server-side parameters where allowed);
                 prints {"lines": [...], "errors": "..."}
  poll QUERY WANT TIMEOUT_S
                 runs QUERY every 50 ms until its first value reads WANT;
                 prints {"explain": EXPLAIN QUERY, "first": first value read,
                 "last": last value read, "seen_at": unix time WANT was read
                 (null if never within TIMEOUT_S)}
Prints one JSON object on stdout.
"""
import json
import sys
import threading
import time

import psycopg

port, mode = sys.argv[1], sys.argv[2]
dsn = f"host=127.0.0.1 port={port} user=stripe dbname=stripe sslmode=disable"
url = f"postgresql+psycopg://stripe@127.0.0.1:{port}/stripe?sslmode=disable"


def params(email):
    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.cursor()
        # psycopg 3 binds on the server: Parse "... = $1", Bind, Execute.
        cur.execute("SELECT id, email FROM customers WHERE email = %s", (email,))
        rows = cur.fetchall()
        cur.execute("SELECT method, path, params FROM stripe_last_requests()")
        requests = [list(r) for r in cur.fetchall()]
        cur.execute("SELECT count(*) FROM customers WHERE email = %s", ("nobody@example.invalid",))
        none = cur.fetchone()[0]
        print(json.dumps({"rows": [list(r) for r in rows], "requests": requests, "none": none}))


def inspect():
    from sqlalchemy import create_engine, inspect as sa_inspect
    engine = create_engine(url)
    insp = sa_inspect(engine)
    tables = insp.get_table_names()
    columns = {c["name"]: str(c["type"]) for c in insp.get_columns("customers")}
    print(json.dumps({"tables": tables, "columns": columns, "schema": insp.default_schema_name}))


def revenue():
    import pandas
    from sqlalchemy import create_engine
    engine = create_engine(url)
    sql = (
        "SELECT date_trunc('month', created) AS month, sum(amount) AS revenue "
        "FROM charges WHERE status = 'succeeded' GROUP BY 1 ORDER BY 1"
    )
    with engine.connect() as conn:
        frame = pandas.read_sql(sql, conn)
    print(json.dumps({
        "months": len(frame),
        "total": int(frame["revenue"].sum()),
        "columns": list(frame.columns),
        "month_dtype": str(frame["month"].dtype),
    }))


def cancel():
    with psycopg.connect(dsn, autocommit=True) as conn:
        timer = threading.Timer(0.7, conn.cancel)
        started = time.monotonic()
        timer.start()
        code, message = None, None
        try:
            conn.execute("SELECT count(*) FROM charges")
        except psycopg.Error as e:
            code, message = e.sqlstate, str(e)
        elapsed = time.monotonic() - started
        after = conn.execute("SELECT 41 + 1").fetchone()[0]
        print(json.dumps({"sqlstate": code, "message": message, "elapsed": elapsed, "after": after}))


def pipeline():
    statements = [
        ("INSERT INTO customers (email) VALUES (%s) RETURNING email", ("one-pipeline@example.com",)),
        ("SELECT outcome, method, path FROM stripe_last_write()", None),
        ("SET stripe.dry_run = true", None),
        # Table functions take no bind parameters (a safety rule): values in the text.
        ("SELECT method, path FROM capture_payment_intent(id => 'pi_123', amount_to_capture => 500)", None),
        ("SELECT id FROM capture_payment_intent('pi_123')", None),
    ]
    lines, errors = [], ""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for sql, args in statements:
            cur = conn.cursor()
            try:
                # prepare=True: Parse/Bind/Describe/Execute even without parameters.
                cur.execute(sql, args, prepare=True)
                if cur.description:
                    lines += [",".join(str(v) for v in row) for row in cur.fetchall()]
            except psycopg.Error as e:
                errors += str(e) + "\n"
    print(json.dumps({"lines": lines, "errors": errors}))


def describe():
    # prepare=True: DESCRIBE through Parse/Bind/Describe/Execute, not the simple protocol.
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute("DESCRIBE refunds", prepare=True).fetchall()
    print(json.dumps({"columns": {r[0]: [r[1], r[2]] for r in rows}}))


def types():
    # The OID each result column is sent with must be the one pg_attribute
    # lists for it, and a type pg_type has.
    tables = ["customers", "charges", "invoices", "subscriptions", "payment_intents", "products"]
    mismatches, checked = {}, 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        known = {r[0] for r in conn.execute("SELECT oid::int8 FROM pg_catalog.pg_type").fetchall()}
        for table in tables:
            sent = {d.name: d.type_code for d in conn.execute(f"SELECT * FROM {table} LIMIT 1").description}
            listed = {name: int(oid) for name, oid in conn.execute(
                "SELECT a.attname, a.atttypid::int8 FROM pg_catalog.pg_attribute a "
                "JOIN pg_catalog.pg_class c ON a.attrelid = c.oid WHERE c.relname = %s",
                (table,),
            ).fetchall()}
            for name, oid in sent.items():
                checked += 1
                if listed.get(name) != oid or oid not in known:
                    mismatches[f"{table}.{name}"] = [oid, listed.get(name)]
    print(json.dumps({"checked": checked, "mismatches": mismatches}))


def poll(query, want, timeout):
    deadline = time.time() + float(timeout)
    with psycopg.connect(dsn, autocommit=True) as conn:
        explain = "\n".join(str(r[-1]) for r in conn.execute("EXPLAIN " + query).fetchall())
        first, last, seen_at = None, None, None
        while time.time() < deadline:
            last = str(conn.execute(query).fetchone()[0])
            first = last if first is None else first
            if last == want:
                seen_at = time.time()
                break
            time.sleep(0.05)
    print(json.dumps({"explain": explain, "first": first, "last": last, "seen_at": seen_at}))


{
    "describe": describe,
    "poll": lambda: poll(sys.argv[3], sys.argv[4], sys.argv[5]),
    "types": types,
    "params": lambda: params(sys.argv[3]),
    "inspect": inspect,
    "revenue": revenue,
    "cancel": cancel,
    "pipeline": pipeline,
}[mode]()

"""Cancels slow queries on `stripe-sql serve` and checks what happens after,
for tests/integration/serve/cancel.rs.

usage: cancel_python.py MODE ADDRESS LATENCY_SECONDS
  copy        psycopg: COPY (SELECT … FROM charges) TO STDOUT, cancelled
              (conn.cancel(): a Postgres CancelRequest) after its first rows
  flight_drop ADBC Flight SQL: a query whose reader is closed after its
              first batch (the client drops the stream)
  flight_cancel pyarrow.flight: a query cancelled by the CancelFlightInfo
              action after its first batch
ADDRESS is the Postgres port or the Flight SQL port (grpc://host:port).
Each mode first runs the query whole on the same connection ("full_rows",
"full_calls"), then cancels it. Prints one JSON object: the error the
cancelled query ended with, the rows it sent first, the session's Stripe
calls during it counted just after the cancel ("calls") and again three
request latencies later ("later"; equal when the scan stopped), and the
answer to a query on the same connection afterwards.
"""
import json
import sys
import time

SQL = "SELECT id, amount, description FROM charges"
COUNT = "SELECT count(*) AS n FROM stripe_request_log()"
# Rows read before cancelling: past the scan's first page, so its concurrent
# split requests are running when the cancel comes.
FIRST = 200


def copy(port, latency):
    import psycopg

    dsn = f"host=127.0.0.1 port={port} user=stripe dbname=stripe sslmode=disable"
    with psycopg.connect(dsn, autocommit=True) as conn:

        def count():
            return conn.execute(COUNT).fetchone()[0]

        def run(cancel, out, key):
            out[key] = 0
            with conn.cursor().copy(f"COPY ({SQL}) TO STDOUT") as cp:
                for data in cp:
                    out[key] += bytes(data).count(b"\n")
                    if cancel and out[key] >= FIRST and not out.get("sent"):
                        out["sent"] = conn.cancel() or True

        out = {"sqlstate": None, "message": None}
        run(False, out, "full_rows")
        out["full_calls"] = count()
        try:
            run(True, out, "rows")
        except psycopg.Error as e:
            out["sqlstate"], out["message"] = e.sqlstate, str(e)
        out["calls"] = count() - out["full_calls"]
        time.sleep(3 * latency)
        out["later"] = count() - out["full_calls"]
        out["after"] = conn.execute("SELECT 41 + 1").fetchone()[0]
    return out


def flight_drop(uri, latency):
    import adbc_driver_flightsql.dbapi as flightsql

    with flightsql.connect(uri) as conn:

        def one(sql):
            cur = conn.cursor()
            cur.execute(sql)
            value = cur.fetch_arrow_table().to_pylist()[0]["n"]
            cur.close()
            return value

        cur = conn.cursor()
        cur.execute(SQL)
        out = {"full_rows": cur.fetch_arrow_table().num_rows, "full_calls": one(COUNT)}
        cur.close()
        cur = conn.cursor()
        cur.execute(SQL)
        reader = cur.fetch_record_batch()
        out["rows"] = 0
        while out["rows"] < FIRST:
            out["rows"] += reader.read_next_batch().num_rows
        reader.close()
        cur.close()
        out["calls"] = one(COUNT) - out["full_calls"]
        time.sleep(3 * latency)
        out["later"] = one(COUNT) - out["full_calls"]
        out["after"] = one("SELECT 41 + 1 AS n")
        out["sqlstate"] = out["message"] = None
    return out


def varint(n):
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, payload):
    """A length-delimited protobuf field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def statement_command(sql):
    """Flight SQL's CommandStatementQuery packed in a protobuf Any."""
    url = b"type.googleapis.com/arrow.flight.protocol.sql.CommandStatementQuery"
    return field(1, url) + field(2, field(1, sql.encode()))


def flight_cancel(uri, latency):
    import pyarrow.flight as flight

    client = flight.FlightClient(uri)

    def info_of(sql):
        return client.get_flight_info(flight.FlightDescriptor.for_command(statement_command(sql)))

    def read(info):
        return client.do_get(info.endpoints[0].ticket)

    def count():
        return read(info_of(COUNT)).read_all().to_pylist()[0]["n"]

    def cancel(info):
        results = list(client.do_action(flight.Action("CancelFlightInfo", field(1, info.serialize()))))
        body = results[0].body.to_pybytes()
        return body[1] if body[:1] == b"\x08" else 0  # CancelFlightInfoResult.status (1: CANCELLED)

    out = {"full_rows": read(info_of(SQL)).read_all().num_rows, "full_calls": count()}
    info = info_of(SQL)
    reader = read(info)
    out["rows"] = 0
    while out["rows"] < FIRST:
        out["rows"] += reader.read_chunk().data.num_rows
    out["status"] = cancel(info)
    out["sqlstate"] = out["message"] = None
    try:
        while True:
            out["rows"] += reader.read_chunk().data.num_rows
    except StopIteration:
        pass
    except flight.FlightCancelledError as e:
        out["sqlstate"], out["message"] = ("57014" if "57014" in str(e) else "cancelled"), str(e)
    out["calls"] = count() - out["full_calls"]
    time.sleep(3 * latency)
    out["later"] = count() - out["full_calls"]
    out["after"] = read(info_of("SELECT 41 + 1 AS n")).read_all().to_pylist()[0]["n"]
    # A statement cancelled before its DoGet is not run.
    early = info_of(SQL)
    cancel(early)
    try:
        read(early).read_all()
        out["early"] = None
    except flight.FlightCancelledError as e:
        out["early"] = str(e)
    client.close()
    return out


def main():
    mode, address, latency = sys.argv[1], sys.argv[2], float(sys.argv[3])
    run = {"copy": copy, "flight_drop": flight_drop, "flight_cancel": flight_cancel}[mode]
    print(json.dumps(run(address, latency)))


if __name__ == "__main__":
    main()

"""Readers of a `stripe-sql serve --mirror DIR --sync-interval ...` server for
the freshness test: several psycopg connections poll while the sync commits.

usage: pg_fresh.py PORT READY_FILE WANT TIMEOUT_S CUSTOMER NAME
  Connection 0 prints EXPLAIN of the polled query (which source answers it).
  READERS connections then poll `SELECT count(*) FROM charges WHERE amount = 777`
  and READY_FILE is created once every one of them has answered once. Each
  reader stops when it reads WANT (or after TIMEOUT_S seconds).
Then connection 0 polls the name of customer CUSTOMER until it is NAME.
Prints one JSON object: {"explain": text, "seen": [distinct counts read, in
order, per reader], "first_want_at": unix time the first reader read WANT
(null if none did), "queries": total answered, "name_at": unix time NAME was
read (null if never)}.
"""
import json
import sys
import threading
import time

import psycopg

READERS = 4
QUERY = "SELECT count(*) FROM charges WHERE amount = 777"

port, ready_file, want, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
customer, name = sys.argv[5], sys.argv[6]
dsn = f"host=127.0.0.1 port={port} user=stripe dbname=stripe sslmode=disable"

with psycopg.connect(dsn, autocommit=True) as conn:
    explain = "\n".join(str(r[-1]) for r in conn.execute("EXPLAIN " + QUERY).fetchall())

seen = [[] for _ in range(READERS)]
first_want_at = []
answered = [0] * READERS
lock = threading.Lock()
started = threading.Barrier(READERS + 1)
deadline = time.time() + timeout


def reader(i):
    with psycopg.connect(dsn, autocommit=True) as conn:
        first = True
        while time.time() < deadline:
            n = conn.execute(QUERY).fetchone()[0]
            answered[i] += 1
            if not seen[i] or seen[i][-1] != n:
                seen[i].append(n)
            if first:
                started.wait()
                first = False
            if n == want:
                with lock:
                    first_want_at.append(time.time())
                return
            time.sleep(0.02)
        if first:
            started.wait()


threads = [threading.Thread(target=reader, args=(i,)) for i in range(READERS)]
for t in threads:
    t.start()
started.wait()
open(ready_file, "w").close()
for t in threads:
    t.join()
name_at = None
with psycopg.connect(dsn, autocommit=True) as conn:
    while time.time() < deadline:
        row = conn.execute("SELECT name FROM customers WHERE id = %s", (customer,)).fetchone()
        if row and row[0] == name:
            name_at = time.time()
            break
        time.sleep(0.02)
print(json.dumps({
    "name_at": name_at,
    "explain": explain,
    "seen": seen,
    "first_want_at": min(first_want_at) if first_want_at else None,
    "queries": sum(answered),
}))

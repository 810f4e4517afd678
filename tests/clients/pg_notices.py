"""Runs SQL against `stripe-sql serve` with psycopg over the extended
protocol (prepared: Parse, Bind, Execute) and collects the server's notices
(NoticeResponse), for the Connect warnings test.

usage: pg_notices.py PORT SQL
Prints one JSON object: the rows and the notices (severity and message).
"""
import json
import sys

import psycopg

port, sql = sys.argv[1], sys.argv[2]
dsn = f"host=127.0.0.1 port={port} user=stripe dbname=stripe sslmode=disable"

notices = []
with psycopg.connect(dsn, autocommit=True) as conn:
    conn.add_notice_handler(lambda d: notices.append({"severity": d.severity, "message": d.message_primary}))
    cur = conn.cursor()
    cur.execute(sql, prepare=True)
    rows = [[str(v) for v in row] for row in cur.fetchall()]
print(json.dumps({"rows": rows, "notices": notices}))

#!/usr/bin/env bash
# Installs the test peers into $STRIPE_SQL_PEERS (idempotent):
#   localstripe (PyPI) in a virtualenv, stripe-stateful-mock (npm),
#   tmux (apt; the interactive REPL test drives the binary through it),
#   and the Postgres clients the `serve` tests use: psql (apt postgresql-client),
#   pgJDBC (apt libpostgresql-jdbc-java, run with the JDK's `java File.java`),
#   R with RPostgreSQL (apt r-cran-rpostgresql),
#   psycopg + SQLAlchemy + pandas (PyPI, into the same virtualenv).
# The tests start the peers on 127.0.0.1 themselves (tests/integration/reliability/peers.rs).
set -euo pipefail
peers="${STRIPE_SQL_PEERS:-$HOME/.cache/stripe-sql-peers}"
mkdir -p "$peers"
sudo_cmd=""
if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
apt_missing=()
command -v tmux >/dev/null 2>&1 || apt_missing+=(tmux)
command -v psql >/dev/null 2>&1 || apt_missing+=(postgresql-client)
[ -f /usr/share/java/postgresql.jar ] || apt_missing+=(libpostgresql-jdbc-java)
command -v java >/dev/null 2>&1 || apt_missing+=(openjdk-17-jdk-headless)
command -v openssl >/dev/null 2>&1 || apt_missing+=(openssl)
if [ "${#apt_missing[@]}" -gt 0 ]; then
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq "${apt_missing[@]}" >/dev/null
fi
# R and its Postgres driver (~30 MB without R's recommended extras), for the README's R snippet.
if [ ! -d /usr/lib/R/site-library/RPostgreSQL ]; then
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends r-cran-rpostgresql >/dev/null
fi
if [ ! -x "$peers/venv/bin/python" ] || ! "$peers/venv/bin/python" -c 'import localstripe' 2>/dev/null; then
  python3 -m venv "$peers/venv"
  "$peers/venv/bin/pip" install --quiet --disable-pip-version-check 'localstripe==1.15.10'
fi
if [ ! -d "$peers/node/node_modules/stripe-stateful-mock" ]; then
  mkdir -p "$peers/node"
  (cd "$peers/node" && npm install --silent --no-audit --no-fund 'stripe-stateful-mock@0.0.16' >/dev/null)
fi
if ! "$peers/venv/bin/python" -c 'import psycopg, sqlalchemy, pandas' 2>/dev/null; then
  "$peers/venv/bin/pip" install --quiet --disable-pip-version-check \
    'psycopg[binary]==3.2.*' 'SQLAlchemy==2.0.*' 'pandas==2.2.*'
fi
# The Delta Lake reader the sync tests check the mirror with (a reader we did not write).
if ! "$peers/venv/bin/python" -c 'import deltalake' 2>/dev/null; then
  "$peers/venv/bin/pip" install --quiet --disable-pip-version-check 'deltalake==1.6.6'
fi
# Arrow-native clients of `serve` (tests/integration/serve/arrow.rs, the
# flight tests and benches/arrow_clients.rs): polars + connectorx (binary
# COPY), the ADBC PostgreSQL and Flight SQL drivers, pyarrow.
if ! "$peers/venv/bin/python" -c 'import polars, connectorx, adbc_driver_postgresql, adbc_driver_flightsql, pyarrow' 2>/dev/null; then
  "$peers/venv/bin/pip" install --quiet --disable-pip-version-check \
    'polars==2.1.0' 'connectorx==0.4.6' 'adbc-driver-postgresql==1.13.0' \
    'adbc-driver-flightsql==1.13.0' 'adbc-driver-manager==1.13.0' 'pyarrow==26.0.1'
fi
# DuckDB, for the README's snippet (a pyarrow table fetched over Flight SQL).
if ! "$peers/venv/bin/python" -c 'import duckdb' 2>/dev/null; then
  "$peers/venv/bin/pip" install --quiet --disable-pip-version-check 'duckdb==2.0.0'
fi
echo "test peers ready in $peers"

//! Queries answered from the mirror (`stripe.source`, `--mirror DIR`): the
//! same rows as live with no API call, EXPLAIN naming the source and its
//! staleness, `auto` falling back to live when the mirror is stale, joins of a
//! mirrored table with a live one still pushing keys to the live side, and a
//! change in the emulator reaching a query through a running sync (in process,
//! and through the `serve` binary to several psycopg connections), and Flight SQL
//! reading the mirror.

mod flight;
mod freshness;
mod reads;
mod serve;
mod support;

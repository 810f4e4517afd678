//! Writes: `INSERT`, `UPDATE` and `DELETE` on Stripe tables become create,
//! update and delete (or cancel) calls.
//!
//! # What the SQL means
//!
//! - `INSERT INTO t (cols) VALUES …` / `INSERT … SELECT`: one create call per
//!   row, sent concurrently (`stripe.max_concurrency`). NULL means "not sent"
//!   (DataFusion fills the columns a statement does not name with NULL).
//!   JSON columns (`address`, `shipping`, `recurring`, `items`, …) take JSON
//!   text; `metadata` takes `MAP {'k': 'v'}`; list columns take `['a', 'b']`.
//!   Create params that have no column (`payment_method`, `source`, `coupon`,
//!   `product_data`, …) go in the `_raw` column as a JSON object:
//!   `INSERT INTO charges (amount, currency, _raw) VALUES (500, 'usd', '{"source": "tok_visa"}')`.
//! - `UPDATE t SET … WHERE …`: the rows come from the same pushdown as SELECT
//!   (`WHERE email = …` is one list call), then one update call per row.
//!   Assignments are evaluated on the old row (`SET name = name || '!'`).
//!   `SET metadata = MAP {…}` merges keys; a key mapped to NULL or '' is
//!   removed; `MAP {}` clears all. `SET col = NULL` sends `""` where Stripe
//!   can unset the field and is refused elsewhere.
//! - `DELETE FROM t WHERE …`: the catalog's delete (`DELETE /v1/customers/{id}`)
//!   or cancel (subscriptions). Tables without one get an error naming the
//!   alternative (`UPDATE prices SET active = false`).
//! - `… RETURNING …`: DataFusion's planner rejects it; [`crate::engine::Engine::sql`]
//!   and the REPL / `-c` / `-f` runner strip it, run the write and evaluate
//!   the list over the objects Stripe returned ([`returning`]).
//!
//! # Safety
//!
//! - Nothing is sent while planning (DataFusion calls the DML hooks while
//!   planning, also for EXPLAIN): the hooks build a [`exec::WriteExec`]; calls
//!   happen when it executes. All rows are validated (unknown or read-only
//!   column, missing required param, wrong type) before the first write.
//! - [`guard::DmlGuard`] (the session's `QueryPlanner`) refuses UPDATE/DELETE
//!   without WHERE unless `SET stripe.allow_unfiltered_dml = true`, and plans
//!   every UPDATE/DELETE from the DML's own input plan ([`exact`]), so the
//!   WHERE clauses DataFusion hides from the table (`IN (SELECT …)`,
//!   `EXISTS`, scalar subqueries, `WHERE false`, `… AND 1 = 0`, `LIMIT`) are
//!   exact too; EXPLAIN shows that plan.
//! - Live keys (`sk_live_`, `rk_live_`) are read-only unless the engine allows
//!   live writes (`--allow-live-writes`, [`crate::settings::WritePolicy`]).
//! - `SET stripe.dry_run = true`: the statement returns count 0 and sends no
//!   write; its planned calls are in `SELECT * FROM stripe_last_write()`
//!   (UPDATE/DELETE still read the rows they would change).
//! - Every row's POST carries an idempotency key fixed for the statement's
//!   execution, so the client's retries of that row cannot create twice.
//! - Partial failure: after the first failed row no further row is started
//!   (rows in flight finish); the statement fails with a summary of the rows
//!   written (ids), failed (Stripe's message, param, request id) and not
//!   attempted, and `stripe_last_write()` lists every row.
//!
//! # Modules
//!
//! - [`params`]: SQL values → Stripe params, validated against the catalog.
//! - [`insert`], [`update`], [`delete`]: the three verbs; [`exact`]: the rows
//!   UPDATE/DELETE touch, selected by the statement's own plan (one path,
//!   also for the WHERE clauses DataFusion hides from the table).
//! - [`exec`]: the execution plan that sends the calls (or records them in dry run).
//! - [`report`]: what a write did, row by row; [`journal`]: `stripe_last_write()`.
//! - [`policy`]: live-key protection and the planning context shared by the verbs.
//! - [`guard`]: the query planner; [`returning`]: RETURNING.

pub mod delete;
pub mod exact;
pub mod exec;
pub mod guard;
pub mod insert;
pub mod journal;
pub mod params;
pub mod policy;
pub mod report;
pub mod returning;
pub mod update;

pub use crate::settings::WritePolicy;
pub use guard::DmlGuard;
pub use journal::Journal;

//! Stripe action endpoints as SQL table functions (DESIGN.md §5, §9).
//!
//! One function per catalog action, named `verb_object`:
//! `SELECT * FROM capture_payment_intent('pi_…', amount_to_capture => 500)`.
//! The id comes first (or named: `id => 'pi_…'`); parameters are named
//! (`name => value`, rewritten by the statement pipeline's AST pass
//! [`crate::engine::passes`]) or given as one JSON object
//! (`'{"amount_to_capture": 500}'`) or `MAP`/`named_struct`. Nested params
//! take `named_struct(...)`, `MAP {...}` or JSON text. The rows are the
//! object Stripe returns, with the result table's columns (`id`, `object`,
//! `_raw` for the few actions whose object has no table).
//!
//! Bulk form: the first argument may be an array of ids
//! (`cancel_payment_intent(ARRAY['pi_1', 'pi_2'])`) or a subquery selecting
//! ids (`capture_payment_intent((SELECT id FROM payment_intents WHERE status =
//! 'requires_capture'))`), read when the statement executes. Ids are sent up
//! to `stripe.max_concurrency` at a time (a repeated id once); after a failure
//! no further id is started, and the statement fails with an error listing the
//! ids done, those that failed (Stripe's message and request id) and those not
//! attempted. `SET stripe.max_concurrency = 1` sends them one by one in order.
//!
//! Connect (`stripe.accounts`): an action acts as `account => 'acct_…'` (one
//! of the selected accounts; required unless exactly one is selected), and the
//! bulk form's id subquery acts on each id as the account its row came from
//! (`provider::accounts::Routing`; checked before anything is sent).
//!
//! Safety: planning only validates (constants only: a column reference, a
//! bind parameter or an unfoldable expression is an error); requests are
//! sent by [`exec::ActionExec`] when the plan executes, so EXPLAIN and
//! planned-but-unexecuted statements send nothing. Each POST carries an
//! idempotency key unique to the statement and id, so re-executing the same
//! plan replays instead of acting twice. (`DELETE` — `cancel_subscription` —
//! carries no key; Stripe treats DELETE as idempotent.) `EXPLAIN ANALYZE`
//! executes, so it acts; a plan DataFusion proves empty (`WHERE false`,
//! `LIMIT 0`) never executes the action. `stripe.dry_run` returns the
//! requests instead of sending them ([`dry_run_hint`] explains the planning
//! error of selecting object columns then); a live key needs
//! `--allow-live-writes` (the engine's write policy; no SQL setting lifts it). `stripe_get('/v1/…')` reads any GET endpoint.

pub mod args;
pub mod call;
pub mod dry_run_hint;
pub mod exec;
pub mod get;
pub mod params;
pub mod registry;
pub mod scalar_json;
pub mod signature;
pub mod table;

pub use registry::register;

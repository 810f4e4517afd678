//! The backfill: `created` windows walked from the newest object down, each
//! fetched with the engine's parallel split scan and committed with the
//! window's lower bound, so a crash resumes below the last committed window.
//! Between windows one `limit=1` probe finds the next older object (skipping
//! empty spans and ending the walk); the next window is fetched while the
//! previous one is committed. Nested tables are backfilled per batch
//! of parent ids, in id order, each batch committed with its last id.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use datafusion::arrow::record_batch::RecordBatch;
use serde_json::{Value, json};

use super::plan::Kind;
use super::progress::Progress;
use super::state::{Backfill, TableState};
use super::store;
use super::sync::Syncer;
use crate::Result;
use crate::engine::Engine;
use crate::stripe;
use crate::watch::query::rfc3339;

/// Parents per nested request batch.
const PARENTS_PER_BATCH: usize = 50;

/// `created` of the newest object listed at `path` with `query` (`None`: none).
pub async fn newest_created(client: &stripe::Client, path: &str, query: &Value) -> Result<Option<i64>> {
    let mut q = query.clone();
    q["limit"] = json!(1);
    let page = client.get(path, &q).await?;
    Ok(page.get("data").and_then(|d| d.get(0)).and_then(|o| o.get("created")).and_then(Value::as_i64))
}

/// One fetched window: its upper bound (`None`: the table is empty), its rows,
/// and `created` of the newest object below it (`None`: nothing older).
struct Window {
    hi: Option<i64>,
    rows: Vec<RecordBatch>,
    older: Option<i64>,
}

/// Fetches the window below `bf.done_to` and, at the same time, probes for the
/// next older object.
async fn fetch_window(engine: &Engine, name: &str, path: &str, bf: &Backfill) -> Result<Window> {
    let client = engine.client();
    let hi = if bf.done_to == i64::MAX {
        match newest_created(client, path, &json!({})).await? {
            Some(c) => c + 1,
            None => return Ok(Window { hi: None, rows: vec![], older: None }),
        }
    } else {
        bf.done_to
    };
    let lo = hi - bf.window.max(1);
    // The first window has no upper bound: objects created meanwhile land in it.
    let upper = if bf.done_to == i64::MAX { String::new() } else { format!(" AND created < '{}'", rfc3339(hi)) };
    let sql = format!("SELECT * FROM {name} WHERE created >= '{}'{upper}", rfc3339(lo));
    let below = json!({"created": {"lt": lo}});
    let (rows, older) = tokio::join!(engine.sql(&sql), newest_created(client, path, &below));
    Ok(Window { hi: Some(hi), rows: rows?, older: older? })
}

fn rows_in(batches: &[RecordBatch]) -> u64 {
    batches.iter().map(|b| b.num_rows() as u64).sum()
}

/// `'a', 'b'` for an SQL IN list (ids never hold quotes; doubled if they did).
pub fn sql_list(ids: &[String]) -> String {
    ids.iter().map(|s| format!("'{}'", s.replace('\'', "''"))).collect::<Vec<_>>().join(", ")
}

impl Syncer {
    /// Runs table `i`'s backfill (if one is pending) to its end or to a stop
    /// request. Window `k + 1` (and its probe) is fetched while window `k` is
    /// committed, so the rate limit, not the Delta writes, sets the pace.
    pub(super) async fn backfill(&mut self, i: usize) -> Result<()> {
        if self.states[i].backfill.is_none() {
            return Ok(());
        }
        if let Kind::Nested { .. } = self.plans[i].kind {
            return self.backfill_nested(i).await;
        }
        let started = Instant::now();
        let first_fetched = self.states[i].backfill.as_ref().map_or(0, |b| b.fetched);
        let floor =
            self.engine.client().account_created().await.unwrap_or(crate::provider::parallel::split::STRIPE_EPOCH);
        let name = self.plans[i].name().to_string();
        let immutable = self.plans[i].kind == Kind::Immutable;
        let engine = Arc::clone(&self.engine);
        let stop = Arc::clone(&self.stop);
        // The state after the last window fetched (committed or about to be).
        let mut planned = self.states[i].clone();
        let mut pending: Option<(Vec<RecordBatch>, TableState, bool)> = None;
        let mut top: Option<i64> = None;
        loop {
            let window = planned.backfill.clone().filter(|_| !stop.load(Ordering::Relaxed));
            let path = self.plans[i].def.list_path.clone();
            let fetch = async {
                match window {
                    Some(bf) => Some(fetch_window(&engine, &name, &path, &bf).await),
                    None => None,
                }
            };
            let store = &mut self.stores[i];
            let commit = async {
                match pending.take() {
                    Some((rows, state, overwrite)) => store.append(rows, &state, overwrite).await.map(|()| Some(state)),
                    None => Ok(None),
                }
            };
            let (fetched, committed) = tokio::join!(fetch, commit);
            if let Some(state) = committed.inspect_err(|e| self.record_error(i, e))? {
                self.clear_error(i);
                let done = state.backfill.is_none();
                let fetched_now = state.backfill.as_ref().map_or(planned.rows, |b| b.fetched);
                let covered = match (&state.backfill, top) {
                    (Some(bf), Some(top)) => ((top - bf.done_to) as f64 / (top - floor).max(1) as f64).clamp(0.0, 1.0),
                    _ => 1.0,
                };
                self.states[i] = state;
                let elapsed = started.elapsed().as_secs_f64();
                let eta =
                    (covered > 0.0 && !done).then(|| Duration::from_secs_f64(elapsed * (1.0 - covered) / covered));
                self.report(Progress::Backfill {
                    table: name.clone(),
                    fetched: fetched_now,
                    per_second: (fetched_now.saturating_sub(first_fetched)) as f64 / elapsed.max(1e-3),
                    eta,
                    done,
                });
            }
            let Some(fetched) = fetched else { break };
            let Window { hi, rows, older } = fetched.inspect_err(|e| self.record_error(i, e))?;
            let Some(bf) = planned.backfill.clone() else { break };
            let n = rows_in(&rows);
            let mut next = bf.clone();
            next.fetched += n;
            next.replace = false;
            let scale = if n == 0 { 8.0 } else { (self.options.backfill_rows as f64 / n as f64).clamp(0.25, 8.0) };
            next.window = ((bf.window as f64 * scale) as i64).max(1);
            let lo = hi.map_or(i64::MIN, |h| h - bf.window.max(1));
            next.done_to = older.map_or(lo, |c| c + 1);
            if let Some(h) = hi {
                top.get_or_insert(h);
            }
            planned.rows = if bf.replace { n } else { planned.rows + n };
            planned.step += 1;
            planned.backfill = older.is_some().then_some(next);
            if planned.backfill.is_none() && immutable {
                planned.created_cursor = Some(planned.created_cursor.unwrap_or(top.map_or(0, |t| t - 1)));
            }
            pending = Some((rows, planned.clone(), bf.replace));
        }
        Ok(())
    }

    /// Backfills nested table `i` from its parent's mirrored ids.
    async fn backfill_nested(&mut self, i: usize) -> Result<()> {
        let Kind::Nested { parent_table, column, .. } = self.plans[i].kind.clone() else { return Ok(()) };
        let p = self.index(&parent_table)?;
        let mut parents: Vec<String> = self.stores[p].read_all().await?.iter().flat_map(store::ids).collect();
        parents.sort();
        let name = self.plans[i].name().to_string();
        let started = Instant::now();
        while let Some(bf) = self.states[i].backfill.clone() {
            if self.stopping() {
                return Ok(());
            }
            let from = bf.after_parent.as_ref().map_or(0, |a| parents.partition_point(|x| x <= a));
            let batch: Vec<String> = parents.iter().skip(from).take(PARENTS_PER_BATCH).cloned().collect();
            let rows = if batch.is_empty() {
                vec![]
            } else {
                let sql = format!("SELECT * FROM {name} WHERE {column} IN ({})", sql_list(&batch));
                self.engine.sql(&sql).await.inspect_err(|e| self.record_error(i, e))?
            };
            let n = rows_in(&rows);
            let mut state = self.states[i].clone();
            let mut next = bf.clone();
            next.fetched += n;
            next.replace = false;
            next.after_parent = batch.last().cloned().or(bf.after_parent.clone());
            state.rows = if bf.replace { n } else { state.rows + n };
            let done = from + batch.len() >= parents.len();
            state.backfill = (!done).then_some(next.clone());
            self.commit_append(i, rows, state, bf.replace).await?;
            let elapsed = started.elapsed().as_secs_f64();
            self.report(Progress::Backfill {
                table: name.clone(),
                fetched: next.fetched,
                per_second: next.fetched as f64 / elapsed.max(1e-3),
                eta: None,
                done,
            });
        }
        Ok(())
    }
}

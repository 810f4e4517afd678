//! The backfill: `created` windows walked from the newest object down, each
//! fetched with the engine's parallel split scan and committed with the
//! window's lower bound, so a crash resumes below the last committed window.
//! Between windows one `limit=1` probe finds the next older object (skipping
//! empty spans and ending the walk); the next window is fetched while the
//! previous one is committed (`SyncOptions::windows_in_flight`; commits run on
//! their own thread, see `commit`).
//! Nested tables are backfilled per batch of parent ids, in id order, each
//! batch committed with its last id.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::record_batch::RecordBatch;
use serde_json::{Value, json};

use super::plan::Kind;
use super::progress::Progress;
use super::syncer::Syncer;
use crate::Result;
use crate::engine::Engine;
use crate::mirror::state::TableState;
use crate::mirror::store;
use crate::stripe;
use crate::time::rfc3339;

/// Parents per nested request batch.
const PARENTS_PER_BATCH: usize = 50;

/// `created` of the newest object listed at `path` with `query` (`None`: none).
pub async fn newest_created(client: &stripe::Client, path: &str, query: &Value) -> Result<Option<i64>> {
    let mut q = query.clone();
    q["limit"] = json!(1);
    let page = client.get(path, &q).await?;
    Ok(page.get("data").and_then(|d| d.get(0)).and_then(|o| o.get("created")).and_then(Value::as_i64))
}

/// One fetched window: its rows, and `created` of the newest object below it
/// (`None`: nothing older).
struct Window {
    rows: Vec<RecordBatch>,
    older: Option<i64>,
}

/// The query of the window `[lo, hi)` (`hi: None`: no upper bound).
fn window_sql(name: &str, lo: i64, hi: Option<i64>) -> String {
    let upper = hi.map(|h| format!(" AND created < '{}'", rfc3339(h))).unwrap_or_default();
    format!("SELECT * FROM {name} WHERE created >= '{}'{upper}", rfc3339(lo))
}

/// Runs a window's query and, at the same time, probes for the next older object.
async fn fetch_window(engine: &Engine, path: &str, sql: String, lo: i64) -> Result<Window> {
    let below = json!({"created": {"lt": lo}});
    let (rows, older) = tokio::join!(engine.sql(&sql), newest_created(engine.client(), path, &below));
    Ok(Window { rows: rows?, older: older? })
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
    /// request. Windows are fetched `SyncOptions::windows_in_flight` at a time
    /// (each sized from the density seen so far) and committed in order while
    /// the next ones are fetched, so Delta writes do not stall the fetching.
    pub(super) async fn backfill(&mut self, i: usize) -> Result<()> {
        let Some(start) = self.states[i].backfill.clone() else { return Ok(()) };
        if let Kind::Nested { .. } = self.plans[i].kind {
            return self.backfill_nested(i).await;
        }
        let started = Instant::now();
        let name = self.plans[i].name().to_string();
        let path = self.plans[i].def.list_path.clone();
        let immutable = self.plans[i].kind == Kind::Immutable;
        let engine = Arc::clone(&self.engine);
        // A fresh backfill's first window has no upper bound (objects created
        // meanwhile land in it); it ends at the newest object. The probe for it
        // (made by `start_backfill` when it just ran) and the account's
        // creation (only for the ETA) are asked at the same time.
        let fresh = start.done_to == i64::MAX;
        let prefetched = self.newest.take().filter(|(t, _)| *t == i).map(|(_, newest)| newest);
        let probe = async {
            match prefetched {
                Some(newest) => Ok(newest),
                None if fresh => newest_created(engine.client(), &path, &json!({})).await,
                None => Ok(None),
            }
        };
        let (newest, floor) = tokio::join!(probe, engine.client().account_created());
        let floor = floor.unwrap_or(crate::provider::parallel::split::STRIPE_EPOCH);
        let (mut next_hi, mut open) = if fresh {
            match newest? {
                Some(c) => (c + 1, true),
                None => (i64::MIN, false),
            }
        } else {
            (start.done_to, false)
        };
        let top = next_hi;
        let mut width = start.window.max(1);
        let mut exhausted = next_hi == i64::MIN;
        let mut planned = self.states[i].clone();
        let mut replace = start.replace;
        let mut inflight: VecDeque<(i64, i64, tokio::task::JoinHandle<Result<Window>>)> = VecDeque::new();
        let mut pending: Option<(Vec<RecordBatch>, TableState, bool)> = None;
        if exhausted {
            planned.step += 1;
            planned.backfill = None;
            pending = Some((vec![], planned.clone(), replace));
        }
        loop {
            if self.stopping() {
                // Stop at the next commit: what is fetched is committed, what is in flight dropped.
                exhausted = true;
                for (_, _, h) in inflight.drain(..) {
                    h.abort();
                }
            }
            while !exhausted && inflight.len() < self.options.windows_in_flight.max(1) {
                let (hi, lo) = (next_hi, next_hi - width);
                let sql = window_sql(&name, lo, (!open).then_some(hi));
                let (engine, path) = (Arc::clone(&engine), path.clone());
                inflight.push_back((
                    lo,
                    width,
                    tokio::spawn(async move { fetch_window(&engine, &path, sql, lo).await }),
                ));
                next_hi = lo;
                open = false;
            }
            let front = if exhausted && pending.is_some() { None } else { inflight.pop_front() };
            let fetch = async {
                match front {
                    Some((lo, width, handle)) => Some((lo, width, handle.await)),
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
                self.committed_window(i, state, top, floor, started, start.fetched);
            }
            let Some((lo, used_width, joined)) = fetched else {
                if pending.is_none() {
                    break;
                }
                continue;
            };
            let joined = joined.map_err(|e| crate::Error::Mirror(format!("backfill of {name} failed: {e}")))?;
            let Window { rows, older } = joined.inspect_err(|e| self.record_error(i, e))?;
            let n = rows_in(&rows);
            let mut next = planned.backfill.clone().unwrap_or(start.clone());
            next.fetched += n;
            next.replace = false;
            // The next windows are sized from this one's density.
            let scale = if n == 0 { 8.0 } else { (self.options.backfill_rows as f64 / n as f64).clamp(0.25, 8.0) };
            width = ((used_width as f64 * scale) as i64).max(1);
            next.window = width;
            planned.rows = if replace { n } else { planned.rows + n };
            planned.step += 1;
            match older {
                None => {
                    // Nothing is older: windows still in flight are empty.
                    exhausted = true;
                    for (_, _, h) in inflight.drain(..) {
                        h.abort();
                    }
                    planned.backfill = None;
                    if immutable {
                        planned.created_cursor = Some(planned.created_cursor.unwrap_or(top - 1));
                    }
                }
                Some(c) => {
                    next.done_to = if inflight.is_empty() { c + 1 } else { lo };
                    next_hi = next_hi.min(c + 1);
                    planned.backfill = Some(next);
                }
            }
            pending = Some((rows, planned.clone(), replace));
            replace = false;
        }
        for (_, _, h) in inflight {
            h.abort();
        }
        Ok(())
    }

    /// Records a committed backfill window of table `i` and reports progress.
    fn committed_window(&mut self, i: usize, state: TableState, top: i64, floor: i64, started: Instant, first: u64) {
        self.clear_error(i);
        let done = state.backfill.is_none();
        let fetched = state.backfill.as_ref().map_or(state.rows, |b| b.fetched);
        let covered = match &state.backfill {
            Some(bf) => ((top - bf.done_to) as f64 / (top - floor).max(1) as f64).clamp(0.0, 1.0),
            None => 1.0,
        };
        self.states[i] = state;
        let elapsed = started.elapsed().as_secs_f64();
        let eta = (covered > 0.0 && !done).then(|| Duration::from_secs_f64(elapsed * (1.0 - covered) / covered));
        self.report(Progress::Backfill {
            table: self.plans[i].name().to_string(),
            fetched,
            per_second: fetched.saturating_sub(first) as f64 / elapsed.max(1e-3),
            eta,
            done,
        });
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

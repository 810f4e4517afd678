//! The backfill. A flat table is listed by one split scan (the engine's
//! parallel walk over disjoint `created` ranges) from its newest object down;
//! every `SyncOptions::backfill_rows` rows are committed with the ranges (and
//! cursors) still to list, so a crash resumes exactly there, and each commit
//! runs while the next rows are fetched. A fresh scan's first page is also
//! the table's probe (an unlistable table fails there, with nothing
//! committed); the events cursor and the account's creation are asked beside
//! it, so the backfill's first round trip is its first page.
//! One scan, not a window after another:
//! the scan's ranges keep every worker busy to the end, where windows would
//! each ramp up from one request and end on their slowest range.
//! Nested tables are backfilled per batch of parent ids, in id order, each
//! batch committed with its last id.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use datafusion::arrow::record_batch::RecordBatch;
use futures::StreamExt;
use serde_json::{Value, json};

use super::plan::Kind;
use super::progress::Progress;
use super::syncer::Syncer;
use crate::catalog::TableDef;
use crate::decode::Decoder;
use crate::mirror::state::{Backfill, Range, TableState};
use crate::mirror::store;
use crate::provider::parallel::split::{STRIPE_EPOCH, Segment};
use crate::provider::parallel::walk;
use crate::pushdown::{self, ListRequest, RequestPlan};
use crate::stripe;
use crate::{Error, Result};

/// Parents per nested request batch.
const PARENTS_PER_BATCH: usize = 50;

/// `created` of the newest object listed at `path` with `query` (`None`: none).
pub async fn newest_created(client: &stripe::Client, path: &str, query: &Value) -> Result<Option<i64>> {
    let mut q = query.clone();
    q["limit"] = json!(1);
    let page = client.get(path, &q).await?;
    Ok(page.get("data").and_then(|d| d.get(0)).and_then(|o| o.get("created")).and_then(Value::as_i64))
}

/// The list request of a whole flat table (`SELECT *`'s), `page_size` objects a page.
fn whole_table_request(def: &TableDef, page_size: usize) -> Result<ListRequest> {
    match pushdown::plan(def, &[], None, &pushdown::Options::default()).plan {
        RequestPlan::List { mut requests, .. } if requests.len() == 1 => {
            let mut request = requests.remove(0);
            request.params.retain(|(k, _)| k != "limit");
            request.params.push(("limit".into(), page_size.clamp(1, 100).to_string()));
            Ok(request)
        }
        other => Err(Error::Mirror(format!("{}: a backfill lists the whole table, not {other:?}", def.name))),
    }
}

/// Rows fetched for one commit: their batches, the ranges still to list
/// after them (`None`: no page fetched), and the newest `created` seen.
#[derive(Default)]
struct Chunk {
    rows: Vec<RecordBatch>,
    count: u64,
    rest: Option<Vec<Segment>>,
    newest: Option<i64>,
}

/// What ran beside a chunk's fetch.
enum Committed {
    /// The previous chunk, with this state.
    Chunk(Box<TableState>),
    /// A fresh scan's events probe: the newest event's `created`.
    Probed(Option<i64>),
    Nothing,
}

/// The segments a flat table's backfill lists from, and whether they are the
/// scan's start (sent as its first request).
fn start_segments(backfill: &Backfill) -> (Vec<Segment>, bool) {
    match &backfill.remaining {
        Some(rest) => (rest.iter().map(|r| Segment { lo: r.lo, hi: r.hi, after: r.after.clone() }).collect(), false),
        None if backfill.done_to == i64::MAX => (vec![Segment::range(i64::MIN, i64::MAX)], true),
        // A state written before ranges were kept: everything below `done_to`.
        None => (vec![Segment::range(i64::MIN, backfill.done_to - 1)], false),
    }
}

/// The share of `[floor, top)` no longer in `rest` (0 to 1), for the ETA.
fn covered(rest: &[Range], top: i64, floor: i64) -> f64 {
    let span = (top as i128 - floor as i128).max(1);
    let left: i128 = rest.iter().map(|s| (s.hi.min(top - 1) as i128 - s.lo.max(floor) as i128 + 1).max(0)).sum();
    (1.0 - left as f64 / span as f64).clamp(0.0, 1.0)
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
    /// request (which commits what is fetched, with what is left to list).
    pub(super) async fn backfill(&mut self, i: usize) -> Result<()> {
        let Some(start) = self.states[i].backfill.clone() else { return Ok(()) };
        if let Kind::Nested { .. } = self.plans[i].kind {
            return self.backfill_nested(i).await;
        }
        let started = Instant::now();
        let def = Arc::clone(&self.plans[i].def);
        let immutable = self.plans[i].kind == Kind::Immutable;
        let client = self.engine.client().clone();
        let request = whole_table_request(&def, self.options.page_size)?;
        let implied = request.implied.clone();
        let concurrency = crate::settings::StripeOptions::from_session(&self.engine.context().state()).max_concurrency;
        let (segments, first) = start_segments(&start);
        // The account's creation is asked with the first page, so the scan
        // splits right after it.
        let start_at = walk::Start { segments, first, floor: walk::FloorAt::FirstPage };
        let mut pages = walk::pages_from(client.clone(), request, concurrency.max(1) as usize, start_at).fuse();
        let decoder = Decoder::new(&def, None);
        let stop: Arc<AtomicBool> = Arc::clone(&self.stop);
        let target = self.options.backfill_rows.max(1) as u64;
        let mut progress = start.clone();
        let mut planned = self.states[i].clone();
        let mut pending: Option<(Vec<RecordBatch>, TableState, bool)> = None;
        let mut ended = false;
        loop {
            // Fetch the next chunk while the previous one is committed.
            let fill = async {
                let mut chunk = Chunk::default();
                while chunk.count < target && !ended && !stop.load(Ordering::Relaxed) {
                    match pages.next().await {
                        None => ended = true,
                        Some(Err(e)) => return Err(Error::from(e)),
                        Some(Ok((page, rest))) => {
                            let batch = decoder.decode_raw(&page.objects, &implied)?;
                            if !page.objects.is_empty() {
                                chunk.newest = chunk.newest.or(page.objects.head(0).created());
                            }
                            chunk.count += batch.num_rows() as u64;
                            chunk.rows.push(batch);
                            // Nothing left to list: the scan's last page.
                            ended = rest.is_empty();
                            chunk.rest = Some(rest);
                        }
                    }
                }
                Ok::<Chunk, Error>(chunk)
            };
            let store = &mut self.stores[i];
            let commit = async {
                match pending.take() {
                    Some((rows, state, overwrite)) => {
                        store.append(rows, &state, overwrite).await.map(|()| Committed::Chunk(Box::new(state)))
                    }
                    // A fresh scan's first page is its table probe: the events
                    // cursor is read meanwhile, to commit with the first rows
                    // (which comes first does not matter: events are re-read
                    // `lag` behind the cursor).
                    None if first => newest_created(&client, "/v1/events", &json!({})).await.map(Committed::Probed),
                    None => Ok(Committed::Nothing),
                }
            };
            let (filled, committed) = tokio::join!(fill, commit);
            match committed.inspect_err(|e| self.record_error(i, e))? {
                Committed::Chunk(state) => {
                    let floor = client.account_created().await.unwrap_or(STRIPE_EPOCH);
                    self.committed_chunk(i, *state, floor, started, start.fetched);
                }
                Committed::Probed(newest_event) => planned.events.cursor = newest_event.unwrap_or(0),
                Committed::Nothing => {}
            }
            let chunk = filled.inspect_err(|e| self.record_error(i, e))?;
            if chunk.rest.is_none() && !ended {
                // Stopped with nothing new fetched: what was fetched is committed.
                return Ok(());
            }
            if progress.upper == i64::MAX {
                progress.upper = chunk.newest.map_or(i64::MAX, |c| c.saturating_add(1));
            }
            let n = chunk.count;
            planned.rows = if progress.replace { n } else { planned.rows + n };
            planned.step += 1;
            let overwrite = progress.replace;
            progress.replace = false;
            progress.fetched += n;
            if ended {
                planned.backfill = None;
                if immutable && progress.upper != i64::MAX {
                    planned.created_cursor = Some(planned.created_cursor.unwrap_or(progress.upper - 1));
                }
            } else {
                let rest: Vec<Range> =
                    chunk.rest.iter().flatten().map(|s| Range { lo: s.lo, hi: s.hi, after: s.after.clone() }).collect();
                progress.done_to = rest.iter().map(|s| s.hi.saturating_add(1)).max().unwrap_or(progress.done_to);
                progress.remaining = Some(rest);
                planned.backfill = Some(progress.clone());
            }
            if ended {
                let state = planned.clone();
                self.stores[i].append(chunk.rows, &state, overwrite).await.inspect_err(|e| self.record_error(i, e))?;
                let floor = client.account_created().await.unwrap_or(STRIPE_EPOCH);
                self.committed_chunk(i, state, floor, started, start.fetched);
                return Ok(());
            }
            pending = Some((chunk.rows, planned.clone(), overwrite));
        }
    }

    /// Records a committed backfill chunk of table `i` and reports progress.
    fn committed_chunk(&mut self, i: usize, state: TableState, floor: i64, started: Instant, first: u64) {
        self.clear_error(i);
        let done = state.backfill.is_none();
        let fetched = state.backfill.as_ref().map_or(state.rows, |b| b.fetched);
        let covered = match &state.backfill {
            Some(Backfill { remaining: Some(rest), upper, .. }) => covered(rest, *upper, floor),
            Some(_) => 0.0,
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

#[cfg(test)]
mod tests {
    use super::{Backfill, Range, Segment, covered, start_segments};

    fn range(lo: i64, hi: i64, after: Option<&str>) -> Range {
        Range { lo, hi, after: after.map(String::from) }
    }

    #[test]
    fn what_is_covered_is_the_share_of_seconds_left_to_list() {
        // 100 seconds from the floor to the top; 25 left in two ranges.
        let rest = [range(180, 199, None), range(100, 104, Some("ch_1"))];
        assert!((covered(&rest, 200, 100) - 0.75).abs() < 1e-9);
        // The oldest range reaches below the floor (no lower bound): clipped.
        assert!((covered(&[range(i64::MIN, 149, None)], 200, 100) - 0.5).abs() < 1e-9);
        assert_eq!(covered(&[], 200, 100), 1.0);
    }

    #[test]
    fn a_backfill_starts_whole_resumes_its_ranges_or_below_an_older_states_bound() {
        let fresh = Backfill::start(false);
        assert_eq!(start_segments(&fresh), (vec![Segment::range(i64::MIN, i64::MAX)], true));
        let resumed = Backfill { remaining: Some(vec![range(10, 20, Some("ch_9"))]), ..fresh.clone() };
        assert_eq!(start_segments(&resumed), (vec![Segment { lo: 10, hi: 20, after: Some("ch_9".into()) }], false));
        let older = Backfill { done_to: 500, ..fresh };
        assert_eq!(start_segments(&older), (vec![Segment::range(i64::MIN, 499)], false));
    }
}

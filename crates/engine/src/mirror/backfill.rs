//! The backfill: `created` windows walked from the newest object down, each
//! fetched with the engine's parallel split scan and committed with the
//! window's lower bound, so a crash resumes below the last committed window.
//! Between windows one `limit=1` probe finds the next older object (skipping
//! empty spans and ending the walk). Nested tables are backfilled per batch
//! of parent ids, in id order, each batch committed with its last id.

use std::time::Instant;

use datafusion::arrow::record_batch::RecordBatch;
use serde_json::{Value, json};

use super::plan::Kind;
use super::progress::Progress;
use super::store;
use super::sync::Syncer;
use crate::Result;
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

fn rows_in(batches: &[RecordBatch]) -> u64 {
    batches.iter().map(|b| b.num_rows() as u64).sum()
}

/// `'a', 'b'` for an SQL IN list (ids never hold quotes; doubled if they did).
pub fn sql_list(ids: &[String]) -> String {
    ids.iter().map(|s| format!("'{}'", s.replace('\'', "''"))).collect::<Vec<_>>().join(", ")
}

impl Syncer {
    /// Runs table `i`'s backfill (if one is pending) to its end or to a stop request.
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
        let path = self.plans[i].def.list_path.clone();
        let client = self.engine.client().clone();
        let mut top = None;
        while let Some(bf) = self.states[i].backfill.clone() {
            if self.stopping() {
                return Ok(());
            }
            let hi = if bf.done_to == i64::MAX {
                match newest_created(&client, &path, &json!({})).await? {
                    Some(c) => c + 1,
                    None => {
                        let mut state = self.states[i].clone();
                        state.backfill = None;
                        self.commit_append(i, vec![], state, bf.replace).await?;
                        break;
                    }
                }
            } else {
                bf.done_to
            };
            top.get_or_insert(hi);
            let lo = hi - bf.window.max(1);
            let upper =
                if bf.done_to == i64::MAX { String::new() } else { format!(" AND created < '{}'", rfc3339(hi)) };
            let sql = format!("SELECT * FROM {name} WHERE created >= '{}'{upper}", rfc3339(lo));
            let rows = self.engine.sql(&sql).await.inspect_err(|e| self.record_error(i, e))?;
            let n = rows_in(&rows);
            let older = newest_created(&client, &path, &json!({"created": {"lt": lo}})).await?;
            let mut state = self.states[i].clone();
            let mut next = bf.clone();
            next.fetched += n;
            next.replace = false;
            let target = self.options.backfill_rows as f64;
            let scale = if n == 0 { 8.0 } else { (target / n as f64).clamp(0.25, 8.0) };
            next.window = ((bf.window as f64 * scale) as i64).max(1);
            state.rows = if bf.replace { n } else { state.rows + n };
            match older {
                Some(c) => next.done_to = c + 1,
                None => next.done_to = lo,
            }
            let done = older.is_none();
            state.backfill = (!done).then_some(next.clone());
            if done && self.plans[i].kind == Kind::Immutable {
                state.created_cursor = Some(state.created_cursor.unwrap_or(top.unwrap_or(hi) - 1));
            }
            self.commit_append(i, rows, state, bf.replace).await?;
            let span = (top.unwrap_or(hi) - floor).max(1) as f64;
            let covered = ((top.unwrap_or(hi) - next.done_to) as f64 / span).clamp(0.0, 1.0);
            let elapsed = started.elapsed().as_secs_f64();
            let eta = (covered > 0.0 && !done)
                .then(|| std::time::Duration::from_secs_f64(elapsed * (1.0 - covered) / covered));
            self.report(Progress::Backfill {
                table: name.clone(),
                fetched: next.fetched,
                per_second: (next.fetched - first_fetched) as f64 / elapsed.max(1e-3),
                eta,
                done,
            });
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

//! Keeping backfilled tables fresh: one Events API read per step shared by
//! every table, each table applying the events its cursor has not (rows of
//! its objects upserted or removed; nested tables re-listed under each touched
//! parent) in one commit with its new cursor; tables without update events
//! re-list a look-back window behind their `created` cursor.

use std::collections::{HashMap, HashSet};

use datafusion::arrow::record_batch::RecordBatch;
use serde_json::{Value, json};

use super::backfill::sql_list;
use super::events::{self, Change, Event};
use super::plan::Kind;
use super::progress::Progress;
use super::syncer::{EVENTS_WINDOW, Syncer};
use crate::Result;
use crate::decode::Decoder;
use crate::mirror::state::TableState;
use crate::mirror::store::Scope;

/// Fetches the current objects for `ids` from `retrieve_path` (`{id}`); a 404
/// means the object is gone.
async fn retrieve_all(
    client: &crate::stripe::Client,
    retrieve_path: &str,
    ids: &[String],
) -> Result<Vec<(String, Option<Value>)>> {
    use futures::StreamExt;
    let calls = ids.iter().map(|id| {
        let path = retrieve_path.replace("{id}", id);
        let client = client.clone();
        let id = id.clone();
        async move {
            match client.get(&path, &json!({})).await {
                Ok(v) if v.get("deleted").and_then(Value::as_bool) == Some(true) => Ok((id, None)),
                Ok(v) => Ok((id, Some(v))),
                Err(e) if e.is_not_found() => Ok((id, None)),
                Err(e) => Err(e),
            }
        }
    });
    let results: Vec<_> = futures::stream::iter(calls).buffered(8).collect().await;
    Ok(results.into_iter().collect::<std::result::Result<Vec<_>, _>>()?)
}

impl Syncer {
    /// Applies the events since the oldest cursor to every table that follows events.
    pub(super) async fn follow_events(&mut self) -> Result<()> {
        let followers: Vec<usize> =
            (0..self.plans.len()).filter(|&i| self.plans[i].kind != Kind::Immutable && self.ready(i)).collect();
        let Some(since) = followers.iter().map(|&i| self.states[i].events.cursor - self.options.lag).min() else {
            return Ok(());
        };
        let client = self.engine.client().clone();
        let events = events::fetch(&client, since.max(0)).await?;
        let now = self.now().max(events.last().map_or(0, |e| e.created));
        for i in followers {
            if self.stopping() {
                return Ok(());
            }
            let cursor = self.states[i].events.cursor;
            if cursor > 0 && cursor < now - EVENTS_WINDOW {
                let reason = format!(
                    "its events cursor ({}) is older than the 30 days the Events API keeps",
                    crate::time::rfc3339(cursor)
                );
                self.start_backfill(i, Some(reason)).await?;
                self.backfill(i).await?;
                continue;
            }
            self.apply_events(i, &events, now).await?;
        }
        Ok(())
    }

    async fn apply_events(&mut self, i: usize, events: &[Event], now: i64) -> Result<()> {
        let plan = self.plans[i].clone();
        let lag = self.options.lag;
        let object = match &plan.kind {
            Kind::Nested { parent_object, .. } => parent_object.clone(),
            _ => plan.def.object.clone(),
        };
        let before = self.states[i].events.clone();
        let pending = events::pending(events, &object, &before, lag);
        let mut state = self.states[i].clone();
        for e in &pending {
            state.events.record(&e.id, e.created, lag);
        }
        if pending.is_empty() {
            // A quiet table still moves its cursor (so the shared read stays
            // short and the 30-day check stays true), committed hourly.
            let newest = events.last().map_or(before.cursor, |e| e.created);
            if newest - before.cursor < 3_600 {
                return Ok(());
            }
            state.events.cursor = newest;
            return self.commit_append(i, vec![], state, false).await;
        }
        let api_version = crate::catalog::builtin().api_version.clone();
        let changes = events::changes(&pending, &before, &api_version);
        let (rows, deletes, scope) = match &plan.kind {
            Kind::Nested { column, .. } => {
                let parents: Vec<String> = changes.iter().map(|(id, _)| id.clone()).collect();
                let live: Vec<String> =
                    changes.iter().filter(|(_, c)| *c != Change::Delete).map(|(id, _)| id.clone()).collect();
                let mut rows = Vec::new();
                for chunk in live.chunks(50) {
                    let sql = format!("SELECT * FROM {} WHERE {column} IN ({})", plan.name(), sql_list(chunk));
                    rows.extend(self.engine.sql(&sql).await.inspect_err(|e| self.record_error(i, e))?);
                }
                (rows, vec![], Some(Scope { column: column.clone(), values: parents }))
            }
            _ => {
                let (rows, deletes) = self.resolve(i, changes).await?;
                (rows, deletes, None)
            }
        };
        let rows_before = state.rows;
        let mut next = self.next_state(i, state);
        let counts = self.stores[i].merge(&rows, &deletes, scope.as_ref(), &next).await;
        let counts = counts.inspect_err(|e| self.record_error(i, e))?;
        // The row count is known only after the merge: it lands with the next commit.
        next.rows = (rows_before + counts.inserted).saturating_sub(counts.deleted);
        self.states[i] = next;
        self.clear_error(i);
        self.report(Progress::Applied {
            table: plan.name().to_string(),
            events: pending.len(),
            upserted: counts.inserted + counts.updated,
            deleted: counts.deleted,
            lag: self.states[i].events.last_event_created.map(|c| now - c),
        });
        Ok(())
    }

    /// The rows and deletions `changes` make to top-level table `i`.
    async fn resolve(&self, i: usize, changes: Vec<(String, Change)>) -> Result<(Vec<RecordBatch>, Vec<String>)> {
        let def = &self.plans[i].def;
        let mut objects: Vec<Value> = Vec::new();
        let mut deletes = Vec::new();
        let mut fetch = Vec::new();
        for (id, change) in changes {
            match change {
                Change::Upsert(v) => objects.push(v),
                Change::Delete => deletes.push(id),
                Change::Retrieve => fetch.push(id),
            }
        }
        if !fetch.is_empty() {
            let path = def.retrieve_path.clone().unwrap_or_else(|| format!("{}/{{id}}", def.list_path));
            for (id, found) in retrieve_all(self.engine.client(), &path, &fetch).await? {
                match found {
                    Some(v) => objects.push(v),
                    None => deletes.push(id),
                }
            }
        }
        let rows = if objects.is_empty() { vec![] } else { vec![Decoder::new(def, None).decode(&objects)?] };
        Ok((rows, deletes))
    }

    /// `state` with the step of table `i`'s next commit.
    pub(super) fn next_state(&self, i: usize, mut state: TableState) -> TableState {
        state.step = self.states[i].step + 1;
        state
    }

    /// Records a merge's committed state (the step was set by [`Syncer::next_state`]).
    pub(super) fn commit_state(&mut self, i: usize, state: TableState) {
        self.states[i] = self.next_state(i, state);
        self.clear_error(i);
    }

    /// Re-lists the look-back window of every table without update events.
    pub(super) async fn follow_created(&mut self) -> Result<()> {
        for i in 0..self.plans.len() {
            if self.plans[i].kind != Kind::Immutable || !self.ready(i) || self.stopping() {
                continue;
            }
            let cursor = self.states[i].created_cursor.unwrap_or(0);
            let since = cursor - self.options.lookback;
            let name = self.plans[i].name().to_string();
            let sql = format!("SELECT * FROM {name} WHERE created >= '{}'", crate::time::rfc3339(since));
            let live = self.engine.sql(&sql).await.inspect_err(|e| self.record_error(i, e))?;
            let mirrored = self.stores[i].raw_by_id(Some(since)).await?;
            let (rows, newest) = changed_rows(&live, &mirrored)?;
            let mut state = self.states[i].clone();
            state.created_cursor = Some(cursor.max(newest.unwrap_or(cursor)));
            if rows.iter().all(|b| b.num_rows() == 0) {
                continue;
            }
            let mut next = self.next_state(i, state);
            let counts = self.stores[i].merge(&rows, &[], None, &next).await;
            let counts = counts.inspect_err(|e| self.record_error(i, e))?;
            next.rows += counts.inserted;
            self.states[i] = next;
            self.clear_error(i);
            self.report(Progress::Applied {
                table: name,
                events: 0,
                upserted: counts.inserted + counts.updated,
                deleted: 0,
                lag: None,
            });
        }
        Ok(())
    }
}

/// The rows of `live` whose id is missing from `mirrored` (id -> `_raw`) or
/// whose `_raw` differs, and the newest `created` second among `live`.
pub fn changed_rows(
    live: &[RecordBatch],
    mirrored: &HashMap<String, String>,
) -> Result<(Vec<RecordBatch>, Option<i64>)> {
    use datafusion::arrow::array::{Array, BooleanArray, StringArray, TimestampSecondArray};
    let mut out = Vec::new();
    let mut newest: Option<i64> = None;
    let mut seen = HashSet::new();
    for b in live {
        let ids = b.column_by_name("id").and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned());
        let raws = b.column_by_name("_raw").and_then(|c| c.as_any().downcast_ref::<StringArray>().cloned());
        let (Some(ids), Some(raws)) = (ids, raws) else { continue };
        if let Some(created) =
            b.column_by_name("created").and_then(|c| c.as_any().downcast_ref::<TimestampSecondArray>())
        {
            for i in 0..created.len() {
                if created.is_valid(i) {
                    newest = newest.max(Some(created.value(i)));
                }
            }
        }
        let keep: BooleanArray = (0..b.num_rows())
            .map(|r| {
                let id = ids.value(r);
                Some(seen.insert(id.to_string()) && mirrored.get(id).is_none_or(|m| m != raws.value(r)))
            })
            .collect();
        out.push(datafusion::arrow::compute::filter_record_batch(b, &keep)?);
    }
    Ok((out, newest))
}

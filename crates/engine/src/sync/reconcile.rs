//! Reconciliation: Stripe sometimes emits no event for a change, so a periodic
//! full re-list compares every row (by id and whole object) with the mirror
//! and repairs the difference — rows added, changed or removed — in one commit
//! per table. The repairs are counted in the table's state and reported.

use std::collections::HashSet;

use super::backfill::sql_list;
use super::follow::changed_rows;
use super::plan::Kind;
use super::progress::Progress;
use super::syncer::Syncer;
use crate::Result;
use crate::mirror::store;

impl Syncer {
    /// Reconciles every backfilled table now.
    pub async fn reconcile(&mut self) -> Result<()> {
        for i in 0..self.plans.len() {
            if self.stopping() {
                return Ok(());
            }
            if self.ready(i) {
                self.reconcile_table(i).await?;
            }
        }
        Ok(())
    }

    async fn reconcile_table(&mut self, i: usize) -> Result<()> {
        let name = self.plans[i].name().to_string();
        let live = match self.plans[i].kind.clone() {
            Kind::Nested { parent_table, column, .. } => {
                let p = self.index(&parent_table)?;
                let parents: Vec<String> = self.stores[p].read_all().await?.iter().flat_map(store::ids).collect();
                let mut rows = Vec::new();
                for chunk in parents.chunks(50) {
                    let sql = format!("SELECT * FROM {name} WHERE {column} IN ({})", sql_list(chunk));
                    rows.extend(self.engine.sql(&sql).await.inspect_err(|e| self.record_error(i, e))?);
                }
                rows
            }
            _ => self.engine.sql(&format!("SELECT * FROM {name}")).await.inspect_err(|e| self.record_error(i, e))?,
        };
        let mirrored = self.stores[i].raw_by_id(None).await?;
        let (rows, _) = changed_rows(&live, &mirrored)?;
        let live_ids: HashSet<String> = live.iter().flat_map(store::ids).collect();
        let deletes: Vec<String> = mirrored.keys().filter(|id| !live_ids.contains(*id)).cloned().collect();
        let repairs = rows.iter().map(|b| b.num_rows() as u64).sum::<u64>() + deletes.len() as u64;
        let mut state = self.states[i].clone();
        state.reconciled_at = Some(self.now());
        state.last_repairs = repairs;
        state.total_repairs += repairs;
        state.rows = live_ids.len() as u64;
        let next = self.next_state(i, state.clone());
        self.stores[i].merge(&rows, &deletes, None, &next).await.inspect_err(|e| self.record_error(i, e))?;
        self.commit_state(i, state);
        self.report(Progress::Reconciled { table: name, repairs });
        Ok(())
    }
}

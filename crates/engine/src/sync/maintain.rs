//! Keeping the mirror's files in shape after each step, between commits like
//! every sync write (a stop request is honoured before each):
//! - compaction: a backfilled table whose rows sit in more than
//!   `SyncOptions::compact_files` data files is rewritten into a few large
//!   ones ([`crate::mirror::store::TableStore::compact`]), its state unchanged;
//! - vacuum: once a day (by the sync's clock) per table, files replaced longer
//!   ago than the table's retention are deleted
//!   ([`crate::mirror::store::TableStore::vacuum`]), so merges and compactions
//!   do not grow the folder without end.

use super::progress::Progress;
use super::syncer::Syncer;
use crate::Result;

/// Seconds between two vacuums of one table.
const VACUUM_EVERY: i64 = 86_400;

impl Syncer {
    /// Compacts and vacuums the backfilled tables that are due.
    pub(super) async fn maintain(&mut self) -> Result<()> {
        for i in 0..self.plans.len() {
            if self.stopping() {
                return Ok(());
            }
            if !self.ready(i) {
                continue;
            }
            self.compact_if_due(i).await?;
            self.vacuum_if_due(i).await?;
        }
        Ok(())
    }

    /// Compacts table `i` when it holds more data files than `SyncOptions::compact_files` (never when 0).
    async fn compact_if_due(&mut self, i: usize) -> Result<()> {
        let most = self.options.compact_files;
        if most == 0 || self.stores[i].data_files()? <= most {
            return Ok(());
        }
        let state = self.states[i].clone();
        let done = self.stores[i].compact(&state).await.inspect_err(|e| self.record_error(i, e))?;
        let files_after = self.stores[i].data_files()?;
        self.report(Progress::Compacted {
            table: self.plans[i].name().to_string(),
            files_before: done.files_before,
            files_after,
        });
        Ok(())
    }

    /// Vacuums table `i` when this process has not in the last day.
    async fn vacuum_if_due(&mut self, i: usize) -> Result<()> {
        let now = self.now();
        if self.vacuumed_at.get(&i).is_some_and(|at| now - at < VACUUM_EVERY) {
            return Ok(());
        }
        let state = self.states[i].clone();
        let files = self.stores[i].vacuum(&state, now).await.inspect_err(|e| self.record_error(i, e))?;
        self.vacuumed_at.insert(i, now);
        if files > 0 {
            self.report(Progress::Vacuumed { table: self.plans[i].name().to_string(), files });
        }
        Ok(())
    }
}

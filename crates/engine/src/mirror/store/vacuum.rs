//! Vacuum (Delta `VACUUM`): merges rewrite the files holding the rows they
//! change and compactions rewrite small files; the replaced files stay on disk
//! for time travel. Vacuuming deletes those replaced longer ago than the
//! table's retention (Delta's `deletedFileRetentionDuration`,
//! 7 days unless the table sets it), so time travel reaches back that far and
//! the folder stops growing. The retention is never shortened here.

use std::future::IntoFuture;
use std::sync::Arc;

use deltalake::kernel::transaction::CommitProperties;
use deltalake::operations::vacuum::Clock;
use futures::FutureExt;

use super::TableStore;
use crate::Result;
use crate::mirror::state::TableState;

/// The time vacuum measures the retention from: the sync's clock.
#[derive(Debug)]
struct At(i64);

impl Clock for At {
    fn current_timestamp_millis(&self) -> i64 {
        self.0
    }
}

impl TableStore {
    /// Deletes the data files replaced more than the table's retention before
    /// `now` (unix seconds); its commits carry `state` (unchanged). Returns the
    /// number of files deleted.
    pub async fn vacuum(&mut self, state: &TableState, now: i64) -> Result<usize> {
        let _turn = self.commit_turn().await;
        let entry = self.state_metadata(state).await?;
        let properties = CommitProperties::default().with_metadata([entry]);
        let clock = Arc::new(At(now.saturating_mul(1_000)));
        let metrics = self
            .operate("vacuum", move |table| {
                table.vacuum().with_clock(clock).with_commit_properties(properties).into_future().boxed()
            })
            .await?;
        Ok(metrics.files_deleted.len())
    }
}

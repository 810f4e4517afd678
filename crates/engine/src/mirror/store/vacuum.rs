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

use super::{TableStore, delta_err};
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
        let table =
            self.table.take().ok_or_else(|| crate::Error::Mirror(format!("table {} is not open", self.name)))?;
        let reopen = table.clone();
        let op = async move {
            table
                .vacuum()
                .with_clock(Arc::new(At(now.saturating_mul(1_000))))
                .with_commit_properties(properties)
                .into_future()
                .await
        }
        .boxed();
        match crate::mirror::commit::run(op).await {
            Ok((table, metrics)) => {
                self.table = Some(table);
                Ok(metrics.files_deleted.len())
            }
            Err(e) => {
                self.table = Some(reopen);
                Err(delta_err(&format!("vacuum {}", self.name), e))
            }
        }
    }
}

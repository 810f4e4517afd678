//! Compaction (Delta `OPTIMIZE`): a sync step whose events only create rows
//! adds a small file (a merge rewrites the files holding the rows it
//! changes), so a mirror of a table that mostly grows, followed every 15 s,
//! would be read from thousands of them; bin-packing rewrites them into a few
//! large ones. The rows do not
//! change (the commit is marked `dataChange = false`, so readers of the
//! table's changes skip it) and the commit carries the sync state as it was,
//! so the newest commit still says where the sync stands. The files it
//! replaced stay for time travel until a `VACUUM`.

use std::future::IntoFuture;

use deltalake::kernel::transaction::CommitProperties;
use deltalake::{FilterOp, FilterValue};
use futures::FutureExt;

use super::{TableStore, delta_err};
use crate::Result;
use crate::mirror::state::TableState;

/// What one compaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compaction {
    /// Data files before (of this store's partition, in a mirror of several accounts).
    pub files_before: usize,
    /// Files rewritten.
    pub removed: u64,
    /// Files written in their place.
    pub added: u64,
}

impl TableStore {
    /// Data files of the table's current version that hold this store's rows
    /// (with a partition, only that account's).
    pub fn data_files(&self) -> Result<usize> {
        let Some(table) = &self.table else { return Ok(0) };
        let Some(p) = &self.partition else {
            return Ok(table.get_file_uris().map_err(|e| delta_err("list files", e))?.count());
        };
        // Partition directories are named `column=value`.
        let dir = format!("/{}={}/", p.column, p.account);
        Ok(table.get_file_uris().map_err(|e| delta_err("list files", e))?.filter(|f| f.contains(&dir)).count())
    }

    /// Rewrites this store's small files into large ones (Delta `OPTIMIZE`,
    /// bin-packing; with a partition, that account's only) in one commit that
    /// carries `state` (the sync's current state, unchanged).
    pub async fn compact(&mut self, state: &TableState) -> Result<Compaction> {
        let _turn = self.commit_turn().await;
        let entry = self.state_metadata(state).await?;
        let files_before = self.data_files()?;
        let properties = CommitProperties::default().with_metadata([entry]);
        let partition = self.partition.clone();
        let writer = Self::writer_properties();
        let metrics = self
            .operate("compact", move |table| {
                async move {
                    let filters: Vec<_> = partition
                        .iter()
                        .map(|p| (p.column.as_str(), FilterOp::Eq, FilterValue::Scalar(p.account.as_str())))
                        .collect();
                    table
                        .optimize()
                        .with_filters(&filters)
                        .with_writer_properties(writer)
                        .with_commit_properties(properties)
                        .into_future()
                        .await
                }
                .boxed()
            })
            .await?;
        Ok(Compaction { files_before, removed: metrics.num_files_removed, added: metrics.num_files_added })
    }
}

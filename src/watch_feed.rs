//! The REPL's `\watch new|changes`: the same [`Watcher`] as `stripe-sql watch`,
//! over the REPL's own engine, as a [`RowFeed`].

use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;

use crate::repl::RowFeed;
use stripe_sql::engine::Engine;
use stripe_sql::watch::watcher::{DEFAULT_SETTLE_SECS, WatchOptions, Watcher};

/// Starts watching `sql` on `engine` from now (with `changes`: updates and deletions too).
pub async fn start(engine: Arc<Engine>, sql: &str, changes: bool) -> Result<Box<dyn RowFeed>, String> {
    let opts = WatchOptions { changes, settle: DEFAULT_SETTLE_SECS, ..WatchOptions::default() };
    match Watcher::new(engine, sql, opts).await {
        Ok(watcher) => Ok(Box::new(WatcherFeed(watcher))),
        Err(e) => Err(e.to_string()),
    }
}

struct WatcherFeed(Watcher);

#[async_trait::async_trait]
impl RowFeed for WatcherFeed {
    async fn next_rows(&mut self) -> Result<Vec<RecordBatch>, String> {
        self.0.poll_and_commit().await.map(|poll| poll.batches).map_err(|e| e.to_string())
    }
}

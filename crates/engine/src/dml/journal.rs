//! The last write statement's report, per session, and the table function
//! `stripe_last_write()` that shows it (dry-run plans and partial failures).

use std::sync::{Arc, Mutex};

use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionContext;

use crate::dml::report::WriteReport;

/// Holds the report of the session's last write statement. Lives in the
/// `SessionConfig` extensions so the DML hooks find it.
#[derive(Debug, Default)]
pub struct Journal {
    last: Mutex<(u64, Option<WriteReport>)>,
}

impl Journal {
    /// Replaces the last report.
    pub fn record(&self, report: WriteReport) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        *last = (last.0 + 1, Some(report));
    }

    /// The last report, if a write ran in this session.
    pub fn last(&self) -> Option<WriteReport> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).1.clone()
    }

    /// How many reports were recorded so far (tells a new report from an old one).
    pub fn generation(&self) -> u64 {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).0
    }
}

/// The session's journal, installing one if the context has none.
pub fn of_context(ctx: &SessionContext) -> Arc<Journal> {
    if let Some(j) = ctx.state().config().get_extension::<Journal>() {
        return j;
    }
    let journal = Arc::new(Journal::default());
    ctx.state_ref().write().config_mut().set_extension(Arc::clone(&journal));
    journal
}

/// Registers `stripe_last_write()` on `ctx`.
pub fn register(ctx: &SessionContext) {
    let journal = of_context(ctx);
    ctx.register_udtf("stripe_last_write", Arc::new(LastWriteFunction { journal }));
}

#[derive(Debug)]
struct LastWriteFunction {
    journal: Arc<Journal>,
}

impl TableFunctionImpl for LastWriteFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        if !args.exprs().is_empty() {
            return Err(DataFusionError::Plan("stripe_last_write() takes no arguments".into()));
        }
        let schema = WriteReport::schema();
        let batches = match self.journal.last() {
            Some(report) => vec![report.to_batch()?],
            None => vec![],
        };
        Ok(Arc::new(MemTable::try_new(schema, vec![batches])?))
    }
}

//! A mirror of several accounts (`stripe-sql sync --accounts`): every Delta
//! table holds all of them, partitioned by the account routing column
//! (`account`, or `stripe_account` for tables with an `account` of their own,
//! as `stripe.accounts` names it), and each account's sync writes only its own
//! partition. Each commit carries every account's [`TableState`] (the map
//! under [`STATES_KEY`]) and a Delta application transaction per account
//! ([`app_id`]) whose version is that account's step, so an account's rows and
//! its cursor still land together and a crash loses or repeats nothing.
//! Accounts sync at the same time; their commits to one table take turns
//! ([`commit_lock`]), each on the table's latest version.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use deltalake::DeltaTable;
use futures::StreamExt;

use super::state::{APP_ID, TableState};
use crate::{Error, Result};

/// Commit-info key holding every account's [`TableState`] (account -> state).
pub const STATES_KEY: &str = "stripe_sql_sync_accounts";

/// How far back the history is searched for the newest commit carrying the
/// states: every sync commit carries them, so only other writers' commits
/// (none today) sit in between.
const HISTORY_DEPTH: usize = 256;

/// The account partition one store writes and reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// The routing column (`account` or `stripe_account`): the Delta partition column.
    pub column: String,
    /// The account whose rows this store holds (`acct_…`).
    pub account: String,
}

/// The Delta application transaction id of `account`'s sync.
pub fn app_id(account: &str) -> String {
    format!("{APP_ID}/{account}")
}

/// `stored` with the partition column appended.
pub fn schema_with(stored: &Schema, column: &str) -> SchemaRef {
    let mut fields: Vec<Field> = stored.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(column, DataType::Utf8, true));
    Arc::new(Schema::new(fields))
}

/// `batch` (already in the stored schema without the partition column) with
/// the partition column set to `account` on every row, in `schema`.
pub fn add_column(batch: &RecordBatch, schema: &SchemaRef, account: &str) -> Result<RecordBatch> {
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns.push(Arc::new(StringArray::from(vec![account; batch.num_rows()])));
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// Every account's state as of the newest commit carrying them (empty when none).
pub async fn read_states(table: &DeltaTable) -> Result<BTreeMap<String, TableState>> {
    let mut history = table.history(Some(HISTORY_DEPTH));
    while let Some(info) = history.next().await {
        let info = info.map_err(|e| Error::Mirror(format!("read the table history: {e}")))?;
        if let Some(v) = info.info.get(STATES_KEY) {
            return serde_json::from_value(v.clone()).map_err(|e| Error::Mirror(format!("decode states: {e}")));
        }
    }
    Ok(BTreeMap::new())
}

/// Takes the turn to commit to the Delta table at `path` among this process's
/// stores: each reads every account's states and commits them with its own,
/// so two accounts committing at once would drop one's state (and race for
/// the same Delta version).
pub async fn commit_lock(path: &Path) -> tokio::sync::OwnedMutexGuard<()> {
    type Locks = Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>;
    static LOCKS: OnceLock<Locks> = OnceLock::new();
    let lock = {
        let mut all = LOCKS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        Arc::clone(all.entry(path.to_path_buf()).or_default())
    };
    lock.lock_owned().await
}

//! Read-your-writes: the objects Stripe returns to a write or an action are
//! merged into the mirror in the same statement (an object with
//! `deleted: true` removes its row), so the next query, answered from the
//! mirror, shows the write at once. Only tables already mirrored are touched;
//! the commit keeps the table's sync state unchanged (the sync's cursor still
//! decides what it applies next, and re-applying the same object is harmless).
//! Under `stripe.accounts` the session reads the mirror of several accounts:
//! each object goes to the partition of the account it was written as, and
//! only accounts that mirror has synced are touched (a new account's rows
//! come with its backfill).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::partition::Partition;
use super::read::SessionMirror;
use super::store::{self, TableStore};
use crate::catalog::ArrowSchema;
use crate::catalog::TableDef;
use crate::decode::Decoder;
use crate::pushdown::accounts::account_column;
use crate::{Error, Result};

/// Merges `objects` (as Stripe returned them, each with the account it was
/// written as under `stripe.accounts`) into the mirrored table `def`;
/// nothing when the table is not mirrored there.
pub async fn apply(target: &SessionMirror, def: &Arc<TableDef>, objects: &[(Option<String>, Value)]) -> Result<()> {
    if objects.is_empty() || def.parent.is_some() {
        return Ok(());
    }
    match target {
        SessionMirror::One(dir) => {
            let all: Vec<&Value> = objects.iter().map(|(_, o)| o).collect();
            merge(dir, def, None, &all).await
        }
        SessionMirror::Accounts(dir) => {
            let mut by_account: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
            for (account, object) in objects {
                if let Some(account) = account {
                    by_account.entry(account).or_default().push(object);
                }
            }
            let column = account_column(def).to_string();
            for (account, objects) in by_account {
                let partition = Partition { column: column.clone(), account: account.to_string() };
                merge(dir, def, Some(partition), &objects).await?;
            }
            Ok(())
        }
    }
}

/// Merges `objects` into table `def` of the mirror in `dir` (into one
/// account's partition when given, if that account has been synced).
async fn merge(dir: &Path, def: &Arc<TableDef>, partition: Option<Partition>, objects: &[&Value]) -> Result<()> {
    if store::open_existing(&dir.join(&def.name)).await?.is_none() {
        return Ok(());
    }
    let (deleted, kept): (Vec<&Value>, Vec<&Value>) =
        objects.iter().partition(|o| o.get("deleted").and_then(Value::as_bool) == Some(true));
    let deletes: Vec<String> = deleted.iter().filter_map(|o| o.get("id")?.as_str().map(String::from)).collect();
    let kept: Vec<Value> = kept.into_iter().cloned().collect();
    let synced = partition.is_none();
    let mut table = TableStore::open_in(dir, &def.name, def.arrow_schema(), partition).await?;
    let state = table.state().await?;
    // An account the sync has not committed yet has no state: its backfill
    // will bring these rows (and would replace them anyway).
    if !synced && state.step == 0 {
        return Ok(());
    }
    let rows = if kept.is_empty() { vec![] } else { vec![Decoder::new(def, None).decode(&kept)?] };
    table.merge(&rows, &deletes, None, &state).await.map_err(|e| Error::Mirror(format!("read-your-writes: {e}")))?;
    Ok(())
}

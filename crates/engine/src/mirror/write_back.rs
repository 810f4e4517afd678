//! Read-your-writes: the objects Stripe returns to a write or an action are
//! merged into the mirror in the same statement (an object with
//! `deleted: true` removes its row), so the next query, answered from the
//! mirror, shows the write at once. Only tables already mirrored are touched;
//! the commit keeps the table's sync state unchanged (the sync's cursor still
//! decides what it applies next, and re-applying the same object is harmless).

use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::read::{MirrorReads, mirror_dir};
use super::store::{self, TableStore};
use crate::catalog::ArrowSchema;
use crate::catalog::TableDef;
use crate::decode::Decoder;
use crate::{Error, Result};

/// The mirror folder writes of this session go to, if queries read one.
pub fn target(state: &dyn datafusion::catalog::Session) -> Option<std::path::PathBuf> {
    let root = state.config().get_extension::<MirrorReads>()?;
    mirror_dir(&root.0).ok()
}

/// Merges `objects` (as Stripe returned them) into the mirrored table `def`
/// under `dir`; nothing when the table is not mirrored there.
pub async fn apply(dir: &Path, def: &Arc<TableDef>, objects: &[Value]) -> Result<()> {
    if objects.is_empty() || def.parent.is_some() || store::open_existing(&dir.join(&def.name)).await?.is_none() {
        return Ok(());
    }
    let (deleted, kept): (Vec<&Value>, Vec<&Value>) =
        objects.iter().partition(|o| o.get("deleted").and_then(Value::as_bool) == Some(true));
    let deletes: Vec<String> = deleted.iter().filter_map(|o| o.get("id")?.as_str().map(String::from)).collect();
    let kept: Vec<Value> = kept.into_iter().cloned().collect();
    let mut table = TableStore::open(dir, &def.name, def.arrow_schema()).await?;
    let state = table.state().await?;
    let rows = if kept.is_empty() { vec![] } else { vec![Decoder::new(def, None).decode(&kept)?] };
    table.merge(&rows, &deletes, None, &state).await.map_err(|e| Error::Mirror(format!("read-your-writes: {e}")))?;
    Ok(())
}

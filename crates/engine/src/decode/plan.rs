//! Which top-level field of an object feeds which column: a column reads
//! the field of its name, or the first key of its `source` path and then
//! the rest of the path inside that field's value.

use std::collections::HashMap;

use crate::catalog::ColumnDef;

use super::RAW_COLUMN;

/// The columns one top-level key feeds.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// Columns holding the field itself.
    pub direct: Vec<usize>,
    /// Columns reading a path inside the field: `(column, rest of the path)`.
    pub nested: Vec<(usize, Vec<String>)>,
}

impl Target {
    /// The one column this key feeds directly, when that is all it feeds.
    pub fn single(&self) -> Option<usize> {
        match (self.direct.as_slice(), self.nested.is_empty()) {
            ([column], true) => Some(*column),
            _ => None,
        }
    }
}

/// Top-level keys → columns, and the whole-object column.
#[derive(Debug, Clone, Default)]
pub struct KeyPlan {
    keys: HashMap<String, Target, foldhash::fast::FixedState>,
    /// The column holding the whole object (`_raw`), if projected.
    pub raw: Option<usize>,
}

impl KeyPlan {
    /// The plan for `columns` (indices are positions in `columns`).
    pub fn new(columns: &[ColumnDef]) -> Self {
        let mut plan = KeyPlan::default();
        for (index, col) in columns.iter().enumerate() {
            match col.source.as_slice() {
                [] if col.name == RAW_COLUMN => plan.raw = Some(index),
                [] => plan.keys.entry(col.name.clone()).or_default().direct.push(index),
                [key] => plan.keys.entry(key.clone()).or_default().direct.push(index),
                [key, rest @ ..] => plan.keys.entry(key.clone()).or_default().nested.push((index, rest.to_vec())),
            }
        }
        plan
    }

    /// The columns `key` feeds, if any.
    pub fn target(&self, key: &str) -> Option<&Target> {
        self.keys.get(key)
    }
}

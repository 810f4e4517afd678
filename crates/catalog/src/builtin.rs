//! The committed catalog, parsed once, and lookups on the catalog types.

use std::sync::OnceLock;

use super::model::{ActionDef, Catalog, ColumnDef, FilterDef, ParamType, TableDef};

/// The committed catalog text (written by `gen-catalog`).
pub const CATALOG_JSON: &str = include_str!("catalog.json");

/// The built-in catalog, parsed from the committed JSON on first use.
pub fn builtin() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        serde_json::from_str(CATALOG_JSON).expect("the committed catalog.json is valid (checked by the catalog tests)")
    })
}

/// Every event type Stripe has (API 2023-08-16): the values of the
/// `enabled_events` parameter of webhook endpoints in the built-in catalog.
pub fn event_types() -> &'static std::collections::BTreeSet<String> {
    static TYPES: OnceLock<std::collections::BTreeSet<String>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let param = builtin()
            .table("webhook_endpoints")
            .and_then(|t| t.create.as_ref())
            .and_then(|c| c.params.iter().find(|p| p.name == "enabled_events"));
        match param.map(|p| &p.ty) {
            Some(ParamType::Array { items }) => match items.as_ref() {
                ParamType::Enum { values } => values.iter().filter(|v| v.as_str() != "*").cloned().collect(),
                _ => Default::default(),
            },
            _ => Default::default(),
        }
    })
}

impl Catalog {
    /// The table named `name` (exact, lower-case SQL name).
    pub fn table(&self, name: &str) -> Option<&TableDef> {
        self.tables.binary_search_by(|t| t.name.as_str().cmp(name)).ok().map(|i| &self.tables[i])
    }

    /// The action (table function) named `name`.
    pub fn action(&self, name: &str) -> Option<&ActionDef> {
        self.actions.binary_search_by(|a| a.name.as_str().cmp(name)).ok().map(|i| &self.actions[i])
    }

    /// Actions whose result rows belong to table `table`, by name.
    pub fn actions_on(&self, table: &str) -> impl Iterator<Item = &ActionDef> {
        self.actions.iter().filter(move |a| a.result_table.as_deref() == Some(table))
    }
}

impl TableDef {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Index of the column named `name` in [`TableDef::columns`] (and the Arrow schema).
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The list filter whose query parameter is `param`.
    pub fn filter(&self, param: &str) -> Option<&FilterDef> {
        self.list_filters.iter().find(|f| f.param == param)
    }

    /// The list filters that apply to column `column`.
    pub fn filters_on(&self, column: &str) -> impl Iterator<Item = &FilterDef> {
        self.list_filters.iter().filter(move |f| f.column.as_deref() == Some(column))
    }
}

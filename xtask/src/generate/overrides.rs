//! The hand-made choices the spec cannot tell (`overrides.json`): awkward table
//! names, skipped aliases, promoted nested fields, search fields, DELETE meaning,
//! delete hints and extra actions.

use std::collections::BTreeMap;

use serde::Deserialize;

use stripe_catalog::model::ColumnType;

/// The committed overrides file, compiled in so the regeneration test and the
/// generator binary use the same choices.
pub const OVERRIDES_JSON: &str = include_str!("../../overrides.json");

/// Deserialised `overrides.json`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// List paths that are aliases or computed previews, not tables.
    #[serde(default)]
    pub skip_lists: Vec<String>,
    /// List path → table name, where the default naming is awkward.
    #[serde(default)]
    pub table_names: BTreeMap<String, String>,
    /// List path → parent column name, where the placeholder (`{id}`) is not a good column name.
    #[serde(default)]
    pub parent_columns: BTreeMap<String, String>,
    /// `table.param` → column a list filter applies to, when the names differ.
    #[serde(default)]
    pub filter_columns: BTreeMap<String, String>,
    /// Object type → id prefix.
    #[serde(default)]
    pub id_prefixes: BTreeMap<String, String>,
    /// Table → extra columns promoted from nested fields.
    #[serde(default)]
    pub promoted_columns: BTreeMap<String, Vec<PromotedColumn>>,
    /// Table → searchable fields as `[name, kind]`.
    #[serde(default)]
    pub search: BTreeMap<String, Vec<(String, String)>>,
    /// Tables whose DELETE cancels instead of deleting.
    #[serde(default)]
    pub delete_cancel: Vec<String>,
    /// Table → what to tell a user who tries DELETE where Stripe has none.
    #[serde(default)]
    pub delete_hints: BTreeMap<String, String>,
    /// Action paths not exposed (aliases, legacy duplicates of an override action).
    #[serde(default)]
    pub skip_actions: Vec<String>,
    /// Action path → `[verb, function name]` where the path's last segment is not a verb.
    #[serde(default)]
    pub action_names: BTreeMap<String, (String, String)>,
    /// Actions that are not `POST /…/{id}/verb` in the spec.
    #[serde(default)]
    pub extra_actions: Vec<ExtraAction>,
}

/// A column taken from a nested field.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromotedColumn {
    /// Column name.
    pub name: String,
    /// Column type.
    pub ty: ColumnType,
    /// Path into the object.
    pub source: Vec<String>,
}

/// An action defined by hand over an existing endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraAction {
    /// SQL function name.
    pub name: String,
    /// Verb.
    pub verb: String,
    /// HTTP method.
    pub method: String,
    /// Path sent (with `{id}` when the id goes into the path).
    pub path: String,
    /// Body parameter that carries the id when the path has no `{id}`.
    #[serde(default)]
    pub id_param: Option<String>,
    /// `[METHOD, spec path]` whose body params the action takes.
    pub params_from: (String, String),
}

impl Overrides {
    /// Parses an overrides document.
    pub fn parse(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("parsing overrides.json failed: {e}"))
    }
}

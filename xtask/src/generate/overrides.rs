//! The hand-made choices the spec cannot tell (`xtask/overrides.toml`): awkward
//! table names, skipped aliases, promoted nested fields, search fields, DELETE
//! meaning, delete hints and extra actions. In the file every choice is an entry
//! carrying its reason (`why`); [`Overrides`] is the generator's view of it.

use std::collections::BTreeMap;

use serde::Deserialize;

use stripe_catalog::model::ColumnType;

/// The committed overrides file, compiled in so the regeneration test and the
/// generator binary use the same choices.
pub const OVERRIDES_TOML: &str = include_str!("../../overrides.toml");

/// The choices of `overrides.toml`, keyed as the generator looks them up.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// List paths that are aliases or computed previews, not tables.
    pub skip_lists: Vec<String>,
    /// List path → table name, where the default naming is awkward.
    pub table_names: BTreeMap<String, String>,
    /// List path → parent column name, where the placeholder (`{id}`) is not a good column name.
    pub parent_columns: BTreeMap<String, String>,
    /// `table.param` → column a list filter applies to, when the names differ.
    pub filter_columns: BTreeMap<String, String>,
    /// Object type → id prefix.
    pub id_prefixes: BTreeMap<String, String>,
    /// Table → extra columns promoted from nested fields.
    pub promoted_columns: BTreeMap<String, Vec<PromotedColumn>>,
    /// Table → searchable fields as `[name, kind]`.
    pub search: BTreeMap<String, Vec<(String, String)>>,
    /// Tables whose DELETE cancels instead of deleting.
    pub delete_cancel: Vec<String>,
    /// Table → what to tell a user who tries DELETE where Stripe has none.
    pub delete_hints: BTreeMap<String, String>,
    /// Action paths not exposed (aliases, legacy duplicates of an override action).
    pub skip_actions: Vec<String>,
    /// Action path → `[verb, function name]` where the path's last segment is not a verb.
    pub action_names: BTreeMap<String, (String, String)>,
    /// Actions that are not `POST /…/{id}/verb` in the spec.
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
    /// Parses an overrides document; every entry must give a non-empty `why`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let file: File = toml::from_str(text).map_err(|e| format!("parsing overrides.toml failed: {e}"))?;
        file.check_reasons()?;
        Ok(file.into_overrides())
    }
}

/// `overrides.toml` as written: one entry per choice, each with its reason.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    skip_list: Vec<Because<PathOnly>>,
    #[serde(default)]
    table_name: Vec<Because<PathName>>,
    #[serde(default)]
    parent_column: Vec<Because<PathColumn>>,
    #[serde(default)]
    filter_column: Vec<Because<ParamColumn>>,
    #[serde(default)]
    promoted: Vec<Because<Promoted>>,
    #[serde(default)]
    search: Vec<Because<Search>>,
    #[serde(default)]
    delete_cancels: Vec<Because<TableOnly>>,
    /// The hint is the message itself: it needs no reason beside it.
    #[serde(default)]
    delete_hints: BTreeMap<String, String>,
    #[serde(default)]
    skip_action: Vec<Because<PathOnly>>,
    #[serde(default)]
    action_name: Vec<Because<ActionName>>,
    #[serde(default)]
    extra_action: Vec<Because<ExtraAction>>,
    /// Stripe's own id prefixes: the section's comment gives the reason.
    #[serde(default)]
    id_prefixes: BTreeMap<String, String>,
}

/// A choice and why it was made.
#[derive(Debug, Deserialize)]
struct Because<T> {
    why: String,
    #[serde(flatten)]
    choice: T,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathOnly {
    path: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableOnly {
    table: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathName {
    path: String,
    name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PathColumn {
    path: String,
    column: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamColumn {
    param: String,
    column: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Promoted {
    table: String,
    columns: Vec<PromotedColumn>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Search {
    table: String,
    fields: Vec<(String, String)>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionName {
    path: String,
    verb: String,
    name: String,
}

impl File {
    fn check_reasons(&self) -> Result<(), String> {
        fn all<T: std::fmt::Debug>(section: &str, entries: &[Because<T>]) -> Result<(), String> {
            match entries.iter().find(|e| e.why.trim().is_empty()) {
                Some(e) => Err(format!("overrides.toml: a [[{section}]] entry has no reason (`why`): {:?}", e.choice)),
                None => Ok(()),
            }
        }
        all("skip_list", &self.skip_list)?;
        all("table_name", &self.table_name)?;
        all("parent_column", &self.parent_column)?;
        all("filter_column", &self.filter_column)?;
        all("promoted", &self.promoted)?;
        all("search", &self.search)?;
        all("delete_cancels", &self.delete_cancels)?;
        all("skip_action", &self.skip_action)?;
        all("action_name", &self.action_name)?;
        all("extra_action", &self.extra_action)
    }

    fn into_overrides(self) -> Overrides {
        Overrides {
            skip_lists: self.skip_list.into_iter().map(|e| e.choice.path).collect(),
            table_names: self.table_name.into_iter().map(|e| (e.choice.path, e.choice.name)).collect(),
            parent_columns: self.parent_column.into_iter().map(|e| (e.choice.path, e.choice.column)).collect(),
            filter_columns: self.filter_column.into_iter().map(|e| (e.choice.param, e.choice.column)).collect(),
            id_prefixes: self.id_prefixes,
            promoted_columns: self.promoted.into_iter().map(|e| (e.choice.table, e.choice.columns)).collect(),
            search: self.search.into_iter().map(|e| (e.choice.table, e.choice.fields)).collect(),
            delete_cancel: self.delete_cancels.into_iter().map(|e| e.choice.table).collect(),
            delete_hints: self.delete_hints,
            skip_actions: self.skip_action.into_iter().map(|e| e.choice.path).collect(),
            action_names: self
                .action_name
                .into_iter()
                .map(|e| (e.choice.path, (e.choice.verb, e.choice.name)))
                .collect(),
            extra_actions: self.extra_action.into_iter().map(|e| e.choice).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_overrides_parse_and_every_choice_has_a_reason() {
        let o = Overrides::parse(OVERRIDES_TOML).expect("overrides.toml parses");
        assert_eq!(o.table_names.get("/v1/invoiceitems").map(String::as_str), Some("invoice_items"));
        assert!(o.delete_cancel.contains(&"subscriptions".to_string()));
    }

    #[test]
    fn a_choice_without_a_reason_is_refused() {
        let text = "[[skip_list]]\npath = \"/v1/x\"\nwhy = \" \"\n";
        let err = Overrides::parse(text).unwrap_err();
        assert!(err.contains("no reason") && err.contains("/v1/x"), "{err}");
        assert!(Overrides::parse("[[skip_list]]\npath = \"/v1/x\"\n").unwrap_err().contains("why"));
    }
}

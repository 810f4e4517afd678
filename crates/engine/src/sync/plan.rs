//! Which tables a sync mirrors and how each is kept fresh, decided from the
//! catalog before any call: tables whose objects have events follow the
//! Events API; tables without (balance transactions) advance a `created`
//! cursor; nested tables (invoice lines) are refreshed with their parent,
//! which must be mirrored too.

use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;

use crate::catalog::TableDef;
use crate::{Error, Result};

/// How a mirrored table stays fresh after its backfill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Events about its objects upsert and delete rows.
    Events,
    /// No update events: new rows by a `created` cursor with a look-back.
    Immutable,
    /// Listed per parent: refreshed when an event touches the parent.
    Nested {
        /// The parent's table (`invoices`).
        parent_table: String,
        /// The parent's object type (`invoice`).
        parent_object: String,
        /// The column holding the parent id (`invoice`).
        column: String,
    },
}

/// One table to mirror.
#[derive(Debug, Clone)]
pub struct TablePlan {
    /// The catalog entry.
    pub def: Arc<TableDef>,
    /// The live table's Arrow schema (the Delta table's columns).
    pub schema: SchemaRef,
    /// How it is kept fresh.
    pub kind: Kind,
}

impl TablePlan {
    /// The table's name.
    pub fn name(&self) -> &str {
        &self.def.name
    }
}

/// Whether Stripe has events about objects of type `object` (`subscription`
/// has `customer.subscription.updated`; `balance_transaction` has none).
pub fn has_events(object: &str) -> bool {
    crate::catalog::event_types()
        .iter()
        .any(|t| t.rsplit_once('.').is_some_and(|(subject, _)| subject.rsplit('.').next() == Some(object)))
}

fn top_level_by_object(object: &str) -> Option<&'static (Arc<TableDef>, SchemaRef)> {
    crate::provider::builtin_tables()
        .iter()
        .find(|(d, _)| d.parent.is_none() && d.object == object && d.list_path.starts_with("/v1/"))
}

/// Whether `def` can be mirrored at all: it has ids and is listed by `created`
/// (or is nested under a table that is).
fn mirrorable(def: &TableDef) -> bool {
    let has = |c: &str| def.columns.iter().any(|col| col.name == c);
    if !has("id") || def.name == "events" {
        return false;
    }
    match &def.parent {
        Some(p) => top_level_by_object(&p.column).is_some_and(|(parent, _)| mirrorable(parent)),
        None => has("created") && def.list_filters.iter().any(|f| f.param == "created") && def.paginated,
    }
}

/// The plans for `names` (`None`: every table that can be mirrored), parents
/// before their nested tables. Unknown tables and nested tables without their
/// parent are refused with the fix in the message.
pub fn plan(names: Option<&[String]>) -> Result<Vec<TablePlan>> {
    let all = crate::provider::builtin_tables();
    let wanted: Vec<&(Arc<TableDef>, SchemaRef)> = match names {
        None => all.iter().filter(|(d, _)| mirrorable(d)).collect(),
        Some(names) => {
            let mut out = Vec::new();
            for n in names {
                let n = n.trim().to_ascii_lowercase();
                let found = all.iter().find(|(d, _)| d.name == n);
                match found {
                    Some(t) if mirrorable(&t.0) => out.push(t),
                    Some(_) => {
                        return Err(Error::Plan(format!(
                            "table {n} cannot be mirrored: it has no ids or cannot be listed by created"
                        )));
                    }
                    None => return Err(Error::Plan(unknown_table(&n))),
                }
            }
            out
        }
    };
    let mut plans = Vec::new();
    for (def, schema) in &wanted {
        let kind = match &def.parent {
            Some(p) => {
                let (parent, _) = top_level_by_object(&p.column)
                    .ok_or_else(|| Error::Plan(format!("table {} has no parent table to follow", def.name)))?;
                if !wanted.iter().any(|(d, _)| d.name == parent.name) {
                    return Err(Error::Plan(format!(
                        "table {} is listed per {}: mirror its parent too (--tables {},{})",
                        def.name, p.column, parent.name, def.name
                    )));
                }
                Kind::Nested {
                    parent_table: parent.name.clone(),
                    parent_object: parent.object.clone(),
                    column: p.column.clone(),
                }
            }
            None if has_events(&def.object) => Kind::Events,
            None => Kind::Immutable,
        };
        plans.push(TablePlan { def: Arc::clone(def), schema: Arc::clone(schema), kind });
    }
    // Parents first: a nested backfill reads its parent's ids from the mirror.
    plans.sort_by_key(|p| matches!(p.kind, Kind::Nested { .. }));
    Ok(plans)
}

fn unknown_table(name: &str) -> String {
    let mut names: Vec<(usize, &str)> = crate::provider::builtin_tables()
        .iter()
        .map(|(d, _)| (crate::catalog::nearest::edit_distance(name, &d.name), d.name.as_str()))
        .collect();
    names.sort();
    let near: Vec<&str> = names.iter().take(3).map(|(_, n)| *n).collect();
    format!("unknown table {name}: did you mean {}?", near.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_the_catalog() {
        let names: Vec<String> = ["charges", "balance_transactions", "invoices", "invoice_lines", "subscriptions"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let plans = plan(Some(&names)).unwrap();
        let kind = |n: &str| plans.iter().find(|p| p.name() == n).unwrap().kind.clone();
        assert_eq!(kind("charges"), Kind::Events);
        assert_eq!(kind("subscriptions"), Kind::Events);
        assert_eq!(kind("balance_transactions"), Kind::Immutable);
        assert!(matches!(kind("invoice_lines"), Kind::Nested { parent_table, .. } if parent_table == "invoices"));
        assert_eq!(plans.last().unwrap().name(), "invoice_lines");
    }

    #[test]
    fn bad_tables_are_refused_with_the_fix() {
        let err = plan(Some(&["chargse".to_string()])).unwrap_err().to_string();
        assert!(err.contains("unknown table chargse") && err.contains("charges"), "{err}");
        let err = plan(Some(&["invoice_lines".to_string()])).unwrap_err().to_string();
        assert!(err.contains("mirror its parent too") && err.contains("invoices,invoice_lines"), "{err}");
        assert!(plan(None).unwrap().len() > 10);
    }
}

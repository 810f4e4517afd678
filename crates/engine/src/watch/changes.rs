//! Updates and deletions (`--changes`) come from the `events` table: the
//! `<prefix>.updated` and `<prefix>.deleted` events of the watched resource,
//! where the prefix is the event name of its objects (`charge`, `customer`,
//! `customer.subscription` for subscriptions). Only types Stripe actually has
//! (the catalog's list of webhook event names) are asked for.

use crate::catalog::{self, TableDef};

/// What happened to a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// A new object (from the table itself).
    Created,
    /// An `*.updated` event.
    Updated,
    /// An `*.deleted` event.
    Deleted,
}

impl ChangeKind {
    /// The value of the `change` column.
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::Created => "created",
            ChangeKind::Updated => "updated",
            ChangeKind::Deleted => "deleted",
        }
    }

    /// The kind an event type stands for.
    pub fn of_event(event_type: &str) -> Self {
        if event_type.ends_with(".deleted") { ChangeKind::Deleted } else { ChangeKind::Updated }
    }
}

/// The event name prefix of a table's objects.
pub fn event_prefix(table: &TableDef) -> String {
    match table.object.as_str() {
        "subscription" => "customer.subscription".to_string(),
        "discount" => "customer.discount".to_string(),
        "tax_id" => "customer.tax_id".to_string(),
        other => other.to_string(),
    }
}

/// The event types that report updates and deletions of `table`'s objects.
pub fn change_types(table: &TableDef) -> Vec<String> {
    let prefix = event_prefix(table);
    let known = catalog::event_types();
    [format!("{prefix}.updated"), format!("{prefix}.deleted")].into_iter().filter(|t| known.contains(t)).collect()
}

/// The events query of one poll: events of `types` created at or after `since`.
pub fn events_sql(types: &[String], since: i64) -> String {
    let list = types.iter().map(|t| format!("'{}'", t.replace('\'', "''"))).collect::<Vec<_>>().join(", ");
    format!(
        "SELECT id, created, type, data_object FROM events WHERE type IN ({list}) AND created >= '{}'",
        super::query::rfc3339(since)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str) -> TableDef {
        catalog::builtin().table(name).unwrap().clone()
    }

    #[test]
    fn change_types_exist_in_stripe() {
        assert_eq!(change_types(&table("customers")), ["customer.updated", "customer.deleted"]);
        assert_eq!(change_types(&table("charges")), ["charge.updated"]);
        assert_eq!(
            change_types(&table("subscriptions")),
            ["customer.subscription.updated", "customer.subscription.deleted"]
        );
        assert_eq!(change_types(&table("invoice_items")), ["invoiceitem.deleted"]);
    }

    #[test]
    fn kinds_follow_the_event_name() {
        assert_eq!(ChangeKind::of_event("customer.deleted"), ChangeKind::Deleted);
        assert_eq!(ChangeKind::of_event("customer.subscription.updated"), ChangeKind::Updated);
        let sql = events_sql(&["a.updated".into(), "a.deleted".into()], 86_400);
        assert!(sql.contains("type IN ('a.updated', 'a.deleted') AND created >= '1970-01-02T00:00:00Z'"), "{sql}");
    }
}

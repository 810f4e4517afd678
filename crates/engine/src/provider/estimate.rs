//! Row estimates of a scan, read off its request plan, exposed as the scan's
//! statistics so DataFusion's join selection puts the small side of a join on
//! the build side (read first; its keys then narrow the other side's calls),
//! whatever order the query names the tables in.
//!
//! The numbers only need to order scans sensibly: an exact `id` filter is as
//! many rows as ids, an equality list param (`customer`, `charge`, a nested
//! table's parent) about one page per value, an enum or boolean param a large
//! share of the table, a `created` range half of it, nothing at all the whole
//! table (assumed large: live accounts grow without bound).

use datafusion::common::stats::Precision;
use datafusion::common::{ColumnStatistics, Statistics};

use crate::catalog::{FilterKind, TableDef};
use crate::pushdown::{ListRequest, RequestPlan};

/// Rows assumed for a table read without any filter.
pub const UNFILTERED: usize = 1_000_000;
/// Rows assumed per value of an equality list param (one page).
const PER_KEY: usize = 100;
/// Rows assumed for a search (its predicates are selective but not keys).
const SEARCH: usize = 1_000;

/// The estimated number of rows `plan` returns from `def`.
pub fn rows(def: &TableDef, plan: &RequestPlan) -> usize {
    match plan {
        RequestPlan::Empty => 0,
        RequestPlan::Retrieve { ids, .. } => ids.len(),
        RequestPlan::Search { max_rows, .. } => max_rows.map_or(SEARCH, |m| m.min(SEARCH)),
        RequestPlan::MissingParent { .. } => UNFILTERED,
        RequestPlan::List { requests, max_rows } => {
            let total = requests.iter().map(|r| list_rows(def, r)).fold(0usize, usize::saturating_add);
            max_rows.map_or(total, |m| m.min(total))
        }
    }
}

/// One list request's estimate, from its most selective param.
fn list_rows(def: &TableDef, request: &ListRequest) -> usize {
    if !request.implied.is_empty() {
        return PER_KEY;
    }
    let mut best = UNFILTERED;
    for (key, value) in &request.params {
        let name = key.split('[').next().unwrap_or(key);
        let Some(filter) = def.list_filters.iter().find(|f| f.param == name) else { continue };
        let rows = match &filter.kind {
            FilterKind::Equality => PER_KEY,
            FilterKind::Enum(_) if value == "all" => UNFILTERED,
            FilterKind::Enum(_) | FilterKind::Boolean | FilterKind::Array => UNFILTERED / 10,
            FilterKind::Range => UNFILTERED / 2,
        };
        best = best.min(rows);
    }
    best
}

/// Statistics with `rows` as an inexact row count and nothing known per column.
pub fn statistics(rows: usize, columns: usize) -> Statistics {
    Statistics {
        num_rows: Precision::Inexact(rows),
        total_byte_size: Precision::Absent,
        column_statistics: vec![ColumnStatistics::new_unknown(); columns],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str) -> TableDef {
        crate::catalog::builtin().tables.iter().find(|t| t.name == name).cloned().expect("table exists")
    }

    fn list(params: &[(&str, &str)], implied: bool) -> ListRequest {
        ListRequest {
            path: "/v1/charges".into(),
            params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            implied: if implied { vec![("customer".into(), "cus_1".into())] } else { Vec::new() },
        }
    }

    #[test]
    fn filters_order_the_estimates() {
        let charges = table("charges");
        let one = |params: &[(&str, &str)], implied| {
            rows(&charges, &RequestPlan::List { requests: vec![list(params, implied)], max_rows: None })
        };
        let unfiltered = one(&[("limit", "100")], false);
        let ranged = one(&[("created[gte]", "1"), ("limit", "100")], false);
        let keyed = one(&[("customer", "cus_1"), ("limit", "100")], true);
        assert_eq!(unfiltered, UNFILTERED);
        assert!(keyed < ranged && ranged < unfiltered);
        let retrieve = RequestPlan::Retrieve { path: "/v1/charges/{id}".into(), ids: vec!["ch_1".into()] };
        assert_eq!(rows(&charges, &retrieve), 1);
        assert_eq!(rows(&charges, &RequestPlan::Empty), 0);
    }
}

//! Nested tables (`invoice_lines` under `/v1/invoices/{invoice}/lines`): the
//! parent filter fills the path; `IN` fans out to one list per parent. A parent
//! that is a required query param instead (`subscription_items`) is sent as one.

use super::predicate::{Pred, Scalar, intersect_one_of};
use super::request::encode_segment;
use super::retrieve::is_valid_id;
use crate::catalog::TableDef;

/// What the parent filter allows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Parent {
    /// Not a nested table: the list path is used as is.
    None,
    /// Nested, but no usable filter on the parent column.
    Missing { column: String },
    /// The filled paths (one per valid parent id; empty means no row can match),
    /// each with its parent id, and the filters they express.
    Paths { paths: Vec<(String, String)>, column: String, used: Vec<usize> },
}

/// Resolves the parent placeholder of `table` from the filters.
pub(crate) fn resolve(table: &TableDef, preds: &[Pred]) -> Parent {
    let Some(def) = &table.parent else { return Parent::None };
    let Some((values, used)) = intersect_one_of(preds, &def.column) else {
        return Parent::Missing { column: def.column.clone() };
    };
    let placeholder = format!("{{{}}}", def.path_param);
    if !table.list_path.contains(&placeholder) {
        // The parent is a required query param (`/v1/subscription_items?subscription=`):
        // the list params send it, like any other list filter.
        return Parent::None;
    }
    let paths = values
        .into_iter()
        .filter_map(|v| match v {
            // Invalid ids cannot exist, so dropping them keeps the result exact.
            Scalar::Str(id) if is_valid_id(&id) => {
                let encoded = encode_segment(&id);
                Some((table.list_path.replace(&placeholder, &encoded), id))
            }
            _ => None,
        })
        .collect();
    Parent::Paths { paths, column: def.column.clone(), used }
}

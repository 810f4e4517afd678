//! `id = 'x'` / `id IN (…)` → one retrieve per id, with id validation.

use super::predicate::{Pred, Scalar, intersect_one_of};
use crate::catalog::TableDef;

/// Longest id accepted; longer ones cannot exist in Stripe.
const MAX_ID_LEN: usize = 255;

/// Most retrieves one scan plans. Above it (`id IN (10,000 ids)`) a list scan of the
/// table costs fewer calls than one retrieve per id for any table under 100 × this
/// many objects, so the ids are filtered locally instead.
pub(crate) const MAX_RETRIEVES: usize = 1000;

/// Whether `id` can be a Stripe id (`[A-Za-z0-9_]+`, at most 255 bytes). Values
/// failing this never reach a URL path.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_ID_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// What the id filters allow.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ids {
    /// The retrieve template (`/v1/customers/{id}`).
    pub path: String,
    /// Valid ids, sorted and deduplicated; empty means no row can match.
    pub ids: Vec<String>,
    /// Indexes of the filters fully expressed by the retrieves.
    pub used: Vec<usize>,
}

/// The ids to retrieve, when the table has a plain retrieve path and some filter
/// pins `id` to a set of values.
pub(crate) fn ids(table: &TableDef, preds: &[Pred]) -> Option<Ids> {
    let path = table.retrieve_path.as_ref()?;
    // Only `/v1/x/{id}`: a template needing other ids (nested objects) is not used.
    if !path.contains("{id}") || path.matches('{').count() != 1 {
        return None;
    }
    let (values, used) = intersect_one_of(preds, "id")?;
    let ids: Vec<String> = values
        .into_iter()
        .filter_map(|v| match v {
            Scalar::Str(s) if is_valid_id(&s) => Some(s),
            _ => None,
        })
        .collect();
    if ids.len() > MAX_RETRIEVES {
        return None;
    }
    Some(Ids { path: path.clone(), ids, used })
}

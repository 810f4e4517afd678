//! LIMIT pushdown: page size and early stop, only when every filter is exact.

/// Stripe's largest page.
pub(crate) const MAX_PAGE: usize = 100;

/// Page size and row budget of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Page {
    /// The `limit` param (1..=100).
    pub size: u32,
    /// Stop after this many rows.
    pub max_rows: Option<usize>,
}

/// `LIMIT n` shrinks pages to `min(n, 100)` and stops after `n` rows when every
/// filter is exact (DataFusion passes a limit only then); otherwise full pages.
pub(crate) fn page(limit: Option<usize>, all_exact: bool) -> Page {
    match limit {
        Some(n) if all_exact => Page { size: n.clamp(1, MAX_PAGE) as u32, max_rows: Some(n) },
        _ => Page { size: MAX_PAGE as u32, max_rows: None },
    }
}

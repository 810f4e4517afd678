//! Deciding how a list scan splits into disjoint `created` ranges: pure
//! functions of what the pages showed, no I/O, no clock.
//!
//! A [`Segment`] is "every object with `created` in `[lo, hi]` that comes after
//! the cursor `after` in Stripe's newest-first order". After each page of a
//! segment, [`rest`] returns segments that cover exactly the objects of the
//! segment the page did not show: a continuation that keeps the cursor (so
//! objects sharing the page's oldest second are walked by cursor, never split),
//! and, when workers are free, fresh older ranges sized from the page's density
//! in whole pages (so each ends on a nearly full page). Together they partition
//! the remainder, so no object is fetched twice or missed. Once no range left
//! is worth splitting, the scan is ending and what is left goes out as single
//! pages at once ([`SplitPolicy::ending`]).
//!
//! Ranges are planned down to [`SplitPolicy::floor`] (when the account was
//! created: nothing is older), never below it nor below 0; the oldest range
//! keeps the segment's own lower bound (none for a whole scan, so nothing is
//! lost should an object predate the floor) and so never sends a bound below it.

/// Objects with `created` in `[lo, hi]` (unix seconds, inclusive) that Stripe
/// lists after the object `after` (newest first); `after: None` means from the
/// newest object of the range. `i64::MIN` / `i64::MAX` mean "no bound".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Oldest `created` second included.
    pub lo: i64,
    /// Newest `created` second included.
    pub hi: i64,
    /// Cursor: only objects listed after this id.
    pub after: Option<String>,
}

impl Segment {
    /// A whole range, from its newest object.
    pub fn range(lo: i64, hi: i64) -> Self {
        Segment { lo, hi, after: None }
    }
}

/// What one page of a segment showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageFacts {
    /// Objects on the page (at least one when `has_more`).
    pub count: usize,
    /// `created` of the page's first (newest) object.
    pub newest: i64,
    /// `created` of the page's last (oldest) object.
    pub oldest: i64,
    /// Id of the page's last object (the cursor to continue from).
    pub last_id: String,
    /// Stripe's `has_more`.
    pub has_more: bool,
}

/// Fewest pages (by the density estimate) a range split off mid-scan must hold.
const MIN_PART_PAGES: f64 = 3.0;

/// How eagerly to split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitPolicy {
    /// Objects per page (`limit`).
    pub page_size: usize,
    /// Pages a fresh range should hold, by the density estimate. Larger ranges
    /// waste less on their partly filled last page; smaller ones balance better.
    pub pages_per_part: usize,
    /// Oldest `created` second ranges are planned for (the account's creation;
    /// clamped to 0): no range is sized over, or bounded by, an older second.
    pub floor: i64,
    /// The scan is ending (no other range is [`splittable`], so workers that
    /// are free now stay idle): what is left is split into single pages, all
    /// fetched at once. A partly filled page then costs budget the idle
    /// workers would leave unused, and saves round trips.
    pub ending: bool,
}

/// 2010-01-01T00:00:00Z: no Stripe object is older (the floor when the
/// account's creation time is unknown).
pub const STRIPE_EPOCH: i64 = 1_262_304_000;

impl Default for SplitPolicy {
    fn default() -> Self {
        SplitPolicy { page_size: 100, pages_per_part: 8, floor: 0, ending: false }
    }
}

/// Objects per second the page shows: `count - 1` gaps over the seconds from
/// its oldest to its newest object (the unbiased estimate for objects created
/// at random; `count / seconds` overstates it, most on sparse pages). A page
/// within one second counts as one second.
fn density(page: &PageFacts) -> f64 {
    let seconds = ((page.newest as i128) - (page.oldest as i128)).max(1);
    page.count.saturating_sub(1).max(1) as f64 / seconds as f64
}

/// The segments still to fetch after `page` of `segment`, given `free` workers
/// (including the one that fetched this page). Empty when the segment is done.
/// The first segment returned (if any) continues the cursor walk.
pub fn rest(segment: &Segment, page: &PageFacts, free: usize, policy: SplitPolicy) -> Vec<Segment> {
    if !page.has_more {
        return Vec::new();
    }
    // Everything the segment still holds: the rest of the page's oldest second
    // (after the cursor) and every older second down to `lo`.
    let whole = Segment { lo: segment.lo, hi: page.oldest.min(segment.hi), after: Some(page.last_id.clone()) };
    // Where ranges are planned down to: nothing exists before the account.
    let floor = segment.lo.max(policy.floor).max(0);
    if free <= 1 || whole.hi <= floor {
        return vec![whole];
    }
    let older_secs = (whole.hi as i128) - (floor as i128); // seconds strictly older than `hi`
    let density = density(page);
    let estimated = density * older_secs as f64;
    let page_size = policy.page_size.max(1) as f64;
    // Every range ends on a partly filled page: only split off ranges that are
    // expected to hold several pages, unless the scan is ending.
    let parts = if policy.ending {
        (free as f64).min((estimated / page_size).ceil())
    } else {
        (free as f64).min((estimated / (page_size * MIN_PART_PAGES)).floor())
    };
    if parts < 2.0 {
        return vec![whole];
    }
    let parts = parts as i128;
    // Each part holds whole pages by the density (at most `pages_per_part`),
    // rounded down: a part's last page is then nearly full, where a part a
    // little over is one nearly empty request.
    let pages_each = (estimated / parts as f64 / page_size).floor().clamp(1.0, policy.pages_per_part.max(1) as f64);
    let width = ((page_size * pages_each / density).floor() as i128).max(1);

    let mut out = Vec::with_capacity(parts as usize);
    let floor = floor as i128;
    let cont_lo = (whole.hi as i128 - width + 1).max(floor);
    if cont_lo <= floor {
        return vec![whole];
    }
    out.push(Segment { lo: cont_lo as i64, hi: whole.hi, after: whole.after });
    let mut next_hi = cont_lo - 1;
    while next_hi >= floor {
        let last = out.len() as i128 + 1 >= parts;
        let lo = if last { floor } else { (next_hi - width + 1).max(floor) };
        // The oldest range reaches down to the segment's own bound.
        let lo = if lo <= floor { segment.lo as i128 } else { lo };
        out.push(Segment::range(lo as i64, next_hi as i64));
        next_hi = lo - 1;
    }
    out
}

/// Pages `segment` is expected to hold by the density `page` showed (a range
/// wholly below the floor: none).
pub fn expected_pages(segment: &Segment, page: &PageFacts, policy: SplitPolicy) -> f64 {
    let lo = segment.lo.max(policy.floor).max(0);
    if segment.hi < lo {
        return 0.0;
    }
    density(page) * ((segment.hi as i128) - (lo as i128) + 1) as f64 / policy.page_size.max(1) as f64
}

/// Whether `next`, the continuation [`rest`] made after `page`, is expected
/// (by the page's density) to end with its next page. The walk counts such a
/// segment's worker as free, so new ranges are queued before a wave of equal
/// ranges ends together and leaves the workers idle for a round trip.
pub fn ends_with_next_page(next: &Segment, page: &PageFacts, policy: SplitPolicy) -> bool {
    expected_pages(next, page, policy) <= 1.0
}

/// Whether a range expected to hold `pages` pages may still be split mid-scan.
/// Once no range left is, the scan is ending ([`SplitPolicy::ending`]).
pub fn splittable(pages: f64) -> bool {
    pages >= 2.0 * MIN_PART_PAGES
}

#[cfg(test)]
mod tests;

//! Merging integer bounds on one column into the tightest range, and writing it
//! out as Stripe list params (`created[gte]=…`) or search clauses (`created>=…`).

use super::predicate::Bound;

/// The tightest lower and upper bound seen on one column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Range {
    lower: Option<Bound>,
    upper: Option<Bound>,
}

/// The smallest value a lower bound admits.
fn lower_key(b: Bound) -> i128 {
    match b {
        Bound::Gt(v) => i128::from(v) + 1,
        _ => key(b),
    }
}

/// The largest value an upper bound admits.
fn upper_key(b: Bound) -> i128 {
    match b {
        Bound::Lt(v) => i128::from(v) - 1,
        _ => key(b),
    }
}

fn key(b: Bound) -> i128 {
    match b {
        Bound::Gt(v) | Bound::Gte(v) | Bound::Lt(v) | Bound::Lte(v) => i128::from(v),
    }
}

impl Range {
    /// Adds one bound, keeping the tighter one. Ties between equivalent forms
    /// (`> 4` and `>= 5`) keep the inclusive form, so the result does not depend
    /// on the order bounds arrive in.
    pub fn add(&mut self, bound: Bound) {
        match bound {
            Bound::Gt(_) | Bound::Gte(_) => {
                let tighter = self.lower.is_none_or(|old| {
                    let (new_k, old_k) = (lower_key(bound), lower_key(old));
                    new_k > old_k || (new_k == old_k && matches!(bound, Bound::Gte(_)))
                });
                if tighter {
                    self.lower = Some(bound);
                }
            }
            Bound::Lt(_) | Bound::Lte(_) => {
                let tighter = self.upper.is_none_or(|old| {
                    let (new_k, old_k) = (upper_key(bound), upper_key(old));
                    new_k < old_k || (new_k == old_k && matches!(bound, Bound::Lte(_)))
                });
                if tighter {
                    self.upper = Some(bound);
                }
            }
        }
    }

    /// Adds an equality: `= v` is `>= v AND <= v`.
    pub fn add_point(&mut self, v: i64) {
        self.add(Bound::Gte(v));
        self.add(Bound::Lte(v));
    }

    /// Whether no integer satisfies the range.
    pub fn is_empty(&self) -> bool {
        match (self.lower, self.upper) {
            (Some(l), Some(u)) => lower_key(l) > upper_key(u),
            _ => false,
        }
    }

    /// Whether nothing was added.
    pub fn is_unbounded(&self) -> bool {
        self.lower.is_none() && self.upper.is_none()
    }

    /// Stripe list params: `param[gt|gte]=…`, `param[lt|lte]=…`.
    pub fn list_params(&self, param: &str) -> Vec<(String, String)> {
        self.bounds()
            .map(|b| {
                let (op, v) = match b {
                    Bound::Gt(v) => ("gt", v),
                    Bound::Gte(v) => ("gte", v),
                    Bound::Lt(v) => ("lt", v),
                    Bound::Lte(v) => ("lte", v),
                };
                (format!("{param}[{op}]"), v.to_string())
            })
            .collect()
    }

    /// Search clauses `field>…`, `field<=…` (equality is `>=` and `<=`: only the
    /// numeric comparators are relied on).
    pub fn search_clauses(&self, field: &str) -> Vec<String> {
        self.bounds()
            .map(|b| match b {
                Bound::Gt(v) => format!("{field}>{v}"),
                Bound::Gte(v) => format!("{field}>={v}"),
                Bound::Lt(v) => format!("{field}<{v}"),
                Bound::Lte(v) => format!("{field}<={v}"),
            })
            .collect()
    }

    fn bounds(&self) -> impl Iterator<Item = Bound> {
        self.lower.into_iter().chain(self.upper)
    }
}

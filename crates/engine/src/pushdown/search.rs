//! Translation of filters into Stripe's search query language, with escaping.
//!
//! Clauses are joined with ` AND ` (the language cannot mix AND with OR, so IN
//! lists are not translated). String matches (`:` and `~`) may be looser than SQL
//! (case, tokenisation), so they are Inexact; numeric and timestamp comparisons
//! are Exact.

use super::Use;
use super::list::MAX_VALUE_LEN;
use super::predicate::{Pred, Scalar};
use super::range::Range;
use crate::catalog::{SearchDef, SearchFieldKind};

/// Stripe's substring operator needs at least this many characters.
const MIN_SUBSTRING_CHARS: usize = 3;

/// What the search language can express of the filters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SearchDraft {
    /// Per filter: how the query expresses it.
    pub uses: Vec<Use>,
    /// Clauses keyed by field position and rank within the field (lower bound
    /// before upper bound), so the query does not depend on filter order.
    clauses: Vec<(usize, usize, String)>,
}

impl SearchDraft {
    /// The `query` param: clauses in field order, joined with ` AND `.
    pub fn query(&self) -> String {
        let mut clauses = self.clauses.clone();
        clauses.sort();
        clauses.dedup();
        clauses.into_iter().map(|(_, _, c)| c).collect::<Vec<_>>().join(" AND ")
    }

    /// Whether some filter can be expressed by search but not by `list_uses`.
    pub fn needed_over(&self, list_uses: &[Use]) -> bool {
        self.uses.iter().zip(list_uses).any(|(s, l)| *s != Use::None && *l == Use::None)
    }
}

/// Quotes a value for the search language: `'…'` with `\` and `'` escaped by a backslash.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if c == '\\' || c == '\'' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// Translates what `search` can express of `preds`.
pub(crate) fn draft(search: &SearchDef, preds: &[Pred]) -> SearchDraft {
    let mut draft = SearchDraft { uses: vec![Use::None; preds.len()], clauses: Vec::new() };
    for (fi, field) in search.fields.iter().enumerate() {
        let name = field.name.as_str();
        match field.kind {
            SearchFieldKind::String | SearchFieldKind::Token => {
                for (i, p) in preds.iter().enumerate() {
                    let clause = match p {
                        Pred::OneOf { column, values, cast: false } if column == name => match values.as_slice() {
                            [Scalar::Str(s)] if usable(s) => Some(format!("{name}:{}", quote(s))),
                            _ => None,
                        },
                        Pred::Like { column, pattern, escape }
                            if column == name && field.kind == SearchFieldKind::String =>
                        {
                            substring(pattern, *escape).map(|run| format!("{name}~{}", quote(&run)))
                        }
                        _ => None,
                    };
                    if let Some(clause) = clause {
                        draft.clauses.push((fi, 0, clause));
                        draft.uses[i] = Use::Inexact;
                    }
                }
            }
            SearchFieldKind::Numeric | SearchFieldKind::Timestamp => {
                let mut range = Range::default();
                for (i, p) in preds.iter().enumerate() {
                    let cast = match p {
                        Pred::Range { column, bound, cast } if column == name => {
                            range.add(*bound);
                            *cast
                        }
                        Pred::OneOf { column, values, cast } if column == name => match values.as_slice() {
                            [Scalar::Int(v)] => {
                                range.add_point(*v);
                                *cast
                            }
                            _ => continue,
                        },
                        _ => continue,
                    };
                    draft.uses[i] = if cast { Use::Inexact } else { Use::Exact };
                }
                draft.clauses.extend(range.search_clauses(name).into_iter().enumerate().map(|(rank, c)| (fi, rank, c)));
            }
            SearchFieldKind::Metadata => {
                for (i, p) in preds.iter().enumerate() {
                    if let Pred::MapEq { column, key, value } = p
                        && column == name
                        && usable(key)
                        && usable(value)
                    {
                        draft.clauses.push((fi, 0, format!("{name}[{}]:{}", quote(key), quote(value))));
                        draft.uses[i] = Use::Inexact;
                    }
                }
            }
        }
    }
    draft
}

fn usable(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_VALUE_LEN
}

/// A substring every match of a LIKE pattern contains: its longest literal run
/// (at least 3 characters). Patterns using the escape character are not translated.
fn substring(pattern: &str, escape: char) -> Option<String> {
    if pattern.contains(escape) || pattern.len() > MAX_VALUE_LEN {
        return None;
    }
    pattern
        .split(['%', '_'])
        .filter(|run| run.chars().count() >= MIN_SUBSTRING_CHARS)
        .max_by_key(|run| run.chars().count())
        .map(str::to_string)
}

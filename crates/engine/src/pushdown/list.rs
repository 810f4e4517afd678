//! List-endpoint query params: equality, enums, booleans, ranges and arrays,
//! with IN fan-out (one list per value, capped) and enum defaults (`status=all`).

use super::Use;
use super::predicate::{Pred, Scalar};
use super::range::Range;
use super::request::ListRequest;
use crate::catalog::{FilterDef, FilterKind, TableDef};

/// Most lists one scan fans out to for IN on list params (parents excluded).
pub(crate) const MAX_FANOUT: usize = 32;
/// Most values of one array param (`types[]`); Stripe caps it at 20.
const MAX_ARRAY_VALUES: usize = 20;
/// Longest value sent as a list param; longer ones are left to DataFusion.
pub(crate) const MAX_VALUE_LEN: usize = 500;
/// Enum values that are list options, not values a row can hold.
const SENTINELS: [&str; 2] = ["all", "ended"];
/// Params whose Stripe filter matches more loosely than SQL equality (case-folding).
const LOOSE_PARAMS: [&str; 2] = ["email", "currency"];

/// How one param is sent.
#[derive(Debug, Clone, PartialEq)]
enum Values {
    /// `param=v` once per request.
    Fixed(Vec<(String, String)>),
    /// One request per value.
    FanOut(Vec<String>),
}

/// Query params and implied `(column, value)` pairs of one request being built.
type Combo = (Vec<(String, String)>, Vec<(String, String)>);

#[derive(Debug, Clone, PartialEq)]
struct Param {
    name: String,
    /// The column, when every row of a request holds the sent value (exact equality).
    implied_column: Option<String>,
    values: Values,
    /// Filters expressed by this param.
    used: Vec<usize>,
}

/// What the list endpoint can express of the filters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ListDraft {
    /// Per filter: how the params express it.
    pub uses: Vec<Use>,
    params: Vec<Param>,
}

/// Builds the list params of `table` for `preds`; `skip_column` is the parent
/// column (it goes into the path, not the params); at most `max_fanout` lists.
pub(crate) fn draft(table: &TableDef, preds: &[Pred], skip_column: Option<&str>, max_fanout: usize) -> ListDraft {
    let mut draft = ListDraft { uses: vec![Use::None; preds.len()], params: Vec::new() };
    let mut claimed: Vec<&str> = skip_column.into_iter().collect();
    for def in &table.list_filters {
        let Some(column) = def.column.as_deref() else { continue };
        if claimed.contains(&column) {
            continue;
        }
        claimed.push(column);
        let array_alternative = table
            .list_filters
            .iter()
            .find(|f| f.kind == FilterKind::Array && f.column.as_deref() == Some(column) && f.param != def.param);
        let param = match (&def.kind, array_alternative) {
            (FilterKind::Range, _) => range_param(def, column, preds, &mut draft.uses),
            (FilterKind::Array, _) => array_param(def, column, preds, &mut draft.uses),
            (_, Some(array)) => equality_or_array(table, def, array, column, preds, &mut draft.uses),
            _ => equality_param(table, def, column, preds, &mut draft.uses),
        };
        draft.params.extend(param);
    }
    draft.cap_fanout(max_fanout);
    draft.add_enum_defaults(table);
    draft
}

impl ListDraft {
    /// The list requests: every base path (one per parent, with its implied
    /// column) × the fan-out of the params; `limit` last.
    pub fn requests(&self, bases: &[(String, Vec<(String, String)>)], page_size: u32) -> Vec<ListRequest> {
        let mut combos: Vec<Combo> = vec![(Vec::new(), Vec::new())];
        for p in &self.params {
            match &p.values {
                Values::Fixed(pairs) => {
                    for (params, implied) in &mut combos {
                        params.extend(pairs.iter().cloned());
                        if let (Some(col), [(_, v)]) = (&p.implied_column, pairs.as_slice()) {
                            implied.push((col.clone(), v.clone()));
                        }
                    }
                }
                Values::FanOut(values) => {
                    combos = combos
                        .into_iter()
                        .flat_map(|(params, implied)| {
                            values.iter().map(move |v| {
                                let mut params = params.clone();
                                let mut implied = implied.clone();
                                params.push((p.name.clone(), v.clone()));
                                if let Some(col) = &p.implied_column {
                                    implied.push((col.clone(), v.clone()));
                                }
                                (params, implied)
                            })
                        })
                        .collect();
                }
            }
        }
        let mut out = Vec::new();
        for (path, base_implied) in bases {
            for (params, implied) in &combos {
                let mut params = params.clone();
                params.push(("limit".to_string(), page_size.to_string()));
                let implied = base_implied.iter().chain(implied).cloned().collect();
                out.push(ListRequest { path: path.clone(), params, implied });
            }
        }
        out
    }

    /// Drops the widest fan-outs until at most `max` lists remain; their
    /// filters go back to DataFusion.
    fn cap_fanout(&mut self, max: usize) {
        loop {
            let widths = self.params.iter().map(|p| match &p.values {
                Values::FanOut(v) => v.len(),
                Values::Fixed(_) => 1,
            });
            if widths.clone().try_fold(1usize, |acc, w| acc.checked_mul(w)).is_some_and(|n| n <= max) {
                return;
            }
            let (widest, _) = widths.enumerate().rev().max_by_key(|(_, w)| *w).expect("a fan-out exists");
            let dropped = self.params.remove(widest);
            for i in dropped.used {
                self.uses[i] = Use::None;
            }
        }
    }

    /// Enum params with an `all` option (subscriptions' `status`) are sent as
    /// `all` when not filtered, so Stripe's default does not hide rows.
    fn add_enum_defaults(&mut self, table: &TableDef) {
        for def in &table.list_filters {
            let FilterKind::Enum(allowed) = &def.kind else { continue };
            if allowed.iter().any(|v| v == "all") && !self.params.iter().any(|p| p.name == def.param) {
                self.params.push(Param {
                    name: def.param.clone(),
                    implied_column: None,
                    values: Values::Fixed(vec![(def.param.clone(), "all".to_string())]),
                    used: Vec::new(),
                });
            }
        }
    }
}

/// `param=v` (one value) or a fan-out (several), from equality / IN / OR filters.
fn equality_param(table: &TableDef, def: &FilterDef, column: &str, preds: &[Pred], uses: &mut [Use]) -> Option<Param> {
    let mut allowed: Option<Vec<Scalar>> = None;
    let mut used = Vec::new();
    for (i, p) in preds.iter().enumerate() {
        let Pred::OneOf { column: c, values, cast: false } = p else { continue };
        if c != column || !values.iter().all(|v| encode(table, def, column, v).is_some()) {
            continue;
        }
        allowed = Some(match allowed {
            None => values.clone(),
            Some(prev) => prev.into_iter().filter(|v| values.contains(v)).collect(),
        });
        let loose = LOOSE_PARAMS.contains(&def.param.as_str())
            || values.iter().any(|v| matches!(v, Scalar::Str(s) if s.contains('*')));
        uses[i] = if loose { Use::Inexact } else { Use::Exact };
        used.push(i);
    }
    let values: Vec<String> = allowed?.iter().filter_map(|v| encode(table, def, column, v)).collect();
    let exact = used.iter().all(|&i| uses[i] == Use::Exact);
    let values = match values.as_slice() {
        [one] => Values::Fixed(vec![(def.param.clone(), one.clone())]),
        _ => Values::FanOut(values),
    };
    Some(Param { name: def.param.clone(), implied_column: exact.then(|| column.to_string()), values, used })
}

/// A column with both an equality param and an array param (events' `type` and
/// `types`): one value goes to `type=`, several (up to 20) to one request with
/// `types[]=…` instead of one request per value.
fn equality_or_array(
    table: &TableDef,
    equality: &FilterDef,
    array: &FilterDef,
    column: &str,
    preds: &[Pred],
    uses: &mut [Use],
) -> Option<Param> {
    let mut scratch = uses.to_vec();
    if let Some(param) = array_param(array, column, preds, &mut scratch)
        && matches!(&param.values, Values::Fixed(pairs) if pairs.len() > 1)
    {
        uses.copy_from_slice(&scratch);
        return Some(param);
    }
    equality_param(table, equality, column, preds, uses)
}

/// The param text of a value, when the filter can take it.
fn encode(table: &TableDef, def: &FilterDef, column: &str, v: &Scalar) -> Option<String> {
    match (&def.kind, v) {
        (FilterKind::Equality, Scalar::Str(s)) if !s.is_empty() && s.len() <= MAX_VALUE_LEN => Some(s.clone()),
        (FilterKind::Equality, Scalar::Int(n)) => Some(n.to_string()),
        (FilterKind::Equality | FilterKind::Boolean, Scalar::Bool(b)) => Some(b.to_string()),
        (FilterKind::Enum(allowed), Scalar::Str(s)) => {
            let col_values = table.columns.iter().find(|c| c.name == column).map(|c| &c.enum_values);
            // Stripe rejects values outside the enum, and sentinels are not row values.
            let ok = allowed.contains(s)
                && !SENTINELS.contains(&s.as_str())
                && col_values.is_none_or(|vals| vals.is_empty() || vals.contains(s));
            ok.then(|| s.clone())
        }
        _ => None,
    }
}

/// `param[gt|gte|lt|lte]=…` from comparisons (and single-value equality).
fn range_param(def: &FilterDef, column: &str, preds: &[Pred], uses: &mut [Use]) -> Option<Param> {
    let mut range = Range::default();
    let mut used = Vec::new();
    for (i, p) in preds.iter().enumerate() {
        match p {
            Pred::Range { column: c, bound, cast } if c == column => {
                range.add(*bound);
                uses[i] = if *cast { Use::Inexact } else { Use::Exact };
            }
            Pred::OneOf { column: c, values, cast } if c == column => match values.as_slice() {
                [Scalar::Int(v)] => {
                    range.add_point(*v);
                    uses[i] = if *cast { Use::Inexact } else { Use::Exact };
                }
                _ => continue,
            },
            _ => continue,
        }
        used.push(i);
    }
    (!range.is_unbounded()).then(|| Param {
        name: def.param.clone(),
        implied_column: None,
        values: Values::Fixed(range.list_params(&def.param)),
        used,
    })
}

/// `param[]=a&param[]=b` in one request (rows matching any value).
fn array_param(def: &FilterDef, column: &str, preds: &[Pred], uses: &mut [Use]) -> Option<Param> {
    let mut allowed: Option<Vec<String>> = None;
    let mut used = Vec::new();
    for (i, p) in preds.iter().enumerate() {
        let Pred::OneOf { column: c, values, cast: false } = p else { continue };
        let strings: Option<Vec<String>> = values
            .iter()
            .map(|v| match v {
                Scalar::Str(s) if !s.is_empty() && s.len() <= MAX_VALUE_LEN => Some(s.clone()),
                _ => None,
            })
            .collect();
        let Some(strings) = strings.filter(|_| c == column) else { continue };
        uses[i] = if strings.iter().any(|s| s.contains('*')) { Use::Inexact } else { Use::Exact };
        allowed = Some(match allowed {
            None => strings,
            Some(prev) => prev.into_iter().filter(|v| strings.contains(v)).collect(),
        });
        used.push(i);
    }
    let values = allowed?;
    if values.len() > MAX_ARRAY_VALUES {
        for i in used {
            uses[i] = Use::None;
        }
        return None;
    }
    let key = format!("{}[]", def.param);
    Some(Param {
        name: def.param.clone(),
        implied_column: None,
        values: Values::Fixed(values.into_iter().map(|v| (key.clone(), v)).collect()),
        used,
    })
}

//! Cursor pagination over a collection (`limit`, `starting_after`, `ending_before`,
//! `has_more`, `url`), newest first, narrowed by a `created` range through binary search.

use super::errors::{ApiError, ApiResult};
use super::filters::Compiled;
use super::params::{Params, parse_int};
use super::store::State;
use serde_json::{Value, json};

/// Validates `limit`: 1..=100, default 10.
pub fn parse_limit(params: &Params) -> ApiResult<usize> {
    match params.get("limit") {
        None => Ok(10),
        Some(v) => {
            let n = parse_int("limit", v)?;
            if !(1..=100).contains(&n) {
                return Err(ApiError::invalid_param(
                    "limit",
                    format!("Invalid limit: must be between 1 and 100 (got {n})"),
                ));
            }
            Ok(n as usize)
        }
    }
}

/// Indexes (into the collection's order) of one page, newest first, and `has_more`.
fn page_indices(
    state: &State,
    resource: &str,
    object: &str,
    params: &Params,
    filter: &Compiled,
) -> ApiResult<(Vec<usize>, bool)> {
    let limit = parse_limit(params)?;
    let after = params.str("starting_after")?;
    let before = params.str("ending_before")?;
    if after.is_some() && before.is_some() {
        return Err(ApiError::invalid("You may only specify one of these parameters: starting_after, ending_before."));
    }
    let Some(col) = state.col(resource) else {
        return match after.or(before) {
            Some(id) => Err(ApiError::no_such(object, &id, "starting_after")),
            None => Ok((vec![], false)),
        };
    };
    let (mut lo, mut hi) = (0usize, col.len());
    if let Some((min, max)) = filter.created {
        if min > max {
            return Ok((vec![], false));
        }
        lo = col.lower_bound((min, 0));
        hi = if max == i64::MAX { col.len() } else { col.lower_bound((max + 1, 0)) };
    }
    let cursor_key = |id: &str, param: &str| col.key(id).ok_or_else(|| ApiError::no_such(object, id, param));
    let mut out = Vec::with_capacity(limit + 1);
    if let Some(id) = before {
        let k = cursor_key(&id, "ending_before")?;
        lo = lo.max(col.lower_bound(k) + 1);
        let mut i = lo;
        while i < hi && out.len() <= limit {
            if filter.matches(col.at(i), state) {
                out.push(i);
            }
            i += 1;
        }
        let has_more = out.len() > limit;
        out.truncate(limit);
        out.reverse();
        return Ok((out, has_more));
    }
    if let Some(id) = after {
        let k = cursor_key(&id, "starting_after")?;
        hi = hi.min(col.lower_bound(k));
    }
    let mut i = hi;
    while i > lo && out.len() <= limit {
        i -= 1;
        if filter.matches(col.at(i), state) {
            out.push(i);
        }
    }
    let has_more = out.len() > limit;
    out.truncate(limit);
    Ok((out, has_more))
}

/// One page of `resource` matching `filter`, as a Stripe list object.
pub fn page(
    state: &State,
    resource: &str,
    object: &str,
    url: &str,
    params: &Params,
    filter: &Compiled,
) -> ApiResult<Value> {
    let (idx, has_more) = page_indices(state, resource, object, params, filter)?;
    let data = match state.col(resource) {
        Some(col) => idx.into_iter().map(|i| col.at(i).clone()).collect(),
        None => vec![],
    };
    Ok(list_object(url, data, has_more))
}

/// The same page as [`page`], already serialized from each object's cached JSON
/// (the fast path for lists without `expand`).
pub fn page_json(
    state: &State,
    resource: &str,
    object: &str,
    url: &str,
    params: &Params,
    filter: &Compiled,
) -> ApiResult<String> {
    let (idx, has_more) = page_indices(state, resource, object, params, filter)?;
    let mut out = String::with_capacity(64 + idx.len() * 2048);
    out.push_str("{\"object\":\"list\",\"data\":[");
    if let Some(col) = state.col(resource) {
        for (n, i) in idx.into_iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(&col.json_at(i));
        }
    }
    out.push_str("],\"has_more\":");
    out.push_str(if has_more { "true" } else { "false" });
    out.push_str(",\"url\":");
    out.push_str(&Value::String(url.to_string()).to_string());
    out.push('}');
    Ok(out)
}

/// Pages over an embedded array (invoice lines, quote line items).
pub fn page_of(items: &[Value], url: &str, params: &Params) -> ApiResult<Value> {
    let limit = parse_limit(params)?;
    let start = match params.str("starting_after")? {
        Some(id) => items.iter().position(|v| v["id"] == id.as_str()).map(|p| p + 1).unwrap_or(items.len()),
        None => 0,
    };
    let end = match params.str("ending_before")? {
        Some(id) => items.iter().position(|v| v["id"] == id.as_str()).unwrap_or(0),
        None => items.len(),
    };
    let (from, to) = if params.has("ending_before") {
        (end.saturating_sub(limit), end)
    } else {
        (start, (start + limit).min(items.len()))
    };
    let has_more = if params.has("ending_before") { from > 0 } else { to < items.len() };
    Ok(list_object(url, items[from..to].to_vec(), has_more))
}

/// `{object: "list", data, has_more, url}`.
pub fn list_object(url: &str, data: Vec<Value>, has_more: bool) -> Value {
    json!({"object": "list", "data": data, "has_more": has_more, "url": url})
}

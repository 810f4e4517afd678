//! The request plan: which Stripe calls a scan makes, and how EXPLAIN prints it.

use std::fmt;

use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};

/// The Stripe calls a scan makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestPlan {
    /// The filters contradict each other: no call at all, no rows.
    Empty,
    /// One GET per id (run concurrently); a 404 means no row. `path` is the
    /// retrieve template (`/v1/customers/{id}`), fill it with [`retrieve_path`].
    /// Every id is validated (`[A-Za-z0-9_]+`, at most 255 bytes), sorted, deduplicated.
    Retrieve {
        /// Retrieve path template with its `{id}` placeholder.
        path: String,
        /// The ids to fetch.
        ids: Vec<String>,
    },
    /// One or more cursor-paginated lists (IN fan-out), merged, deduplicated by id.
    List {
        /// The lists to run.
        requests: Vec<ListRequest>,
        /// Stop after this many rows in total (only when every filter is exact).
        max_rows: Option<usize>,
    },
    /// The Search API (eventually consistent), paginated with `page`.
    Search {
        /// `/v1/customers/search`.
        path: String,
        /// The `query` param, already escaped.
        query: String,
        /// The `limit` param (1..=100).
        page_size: u32,
        /// Stop after this many rows (only when every filter is exact).
        max_rows: Option<usize>,
    },
    /// A nested table was queried without its parent filter: the provider must
    /// raise an error naming the column.
    MissingParent {
        /// The nested table (`invoice_lines`).
        table: String,
        /// The column that must be filtered (`invoice`).
        column: String,
    },
}

impl RequestPlan {
    /// The same calls fetching at most `n` rows in total: smaller pages
    /// (`limit=min(n,100)`) and an early stop. Only valid when every row the
    /// calls return is a result row (no filter left for DataFusion or the scan).
    pub fn with_row_limit(self, n: usize) -> RequestPlan {
        let page = super::limit::page(Some(n), true);
        let cap = |max: Option<usize>| Some(max.map_or(n, |m| m.min(n)));
        match self {
            RequestPlan::List { mut requests, max_rows } => {
                for request in &mut requests {
                    for (key, value) in &mut request.params {
                        if key == "limit" {
                            let current: u32 = value.parse().unwrap_or(page.size);
                            *value = current.min(page.size).to_string();
                        }
                    }
                }
                RequestPlan::List { requests, max_rows: cap(max_rows) }
            }
            RequestPlan::Search { path, query, page_size, max_rows } => {
                RequestPlan::Search { path, query, page_size: page_size.min(page.size), max_rows: cap(max_rows) }
            }
            other => other,
        }
    }
}

/// One list call (before pagination params).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    /// Path with any parent placeholder filled with a validated, percent-encoded id.
    pub path: String,
    /// Query params, already in Stripe's bracket form, e.g. `("created[gte]", "1704067200")`,
    /// `("limit", "100")`. Values are raw (the HTTP client encodes them).
    pub params: Vec<(String, String)>,
    /// `(column, value)` pairs every row of this request has by construction (the
    /// parent id filled into the path, exact equality params). The provider may use
    /// them to fill columns the objects do not carry (e.g. `invoice_lines.invoice`).
    pub implied: Vec<(String, String)>,
}

impl ListRequest {
    /// The params as the JSON object `stripe::Client::list` takes, rebuilt from the
    /// bracket form: `created[gte]` → `{"created": {"gte": …}}`, `types[]` →
    /// `{"types": [...]}`; every value stays a string.
    pub fn query_value(&self) -> serde_json::Value {
        use serde_json::{Map, Value};
        let mut out = Map::new();
        for (key, value) in &self.params {
            let v = Value::String(value.clone());
            match key.split_once('[') {
                Some((name, "]")) => {
                    let entry = out.entry(name).or_insert_with(|| Value::Array(Vec::new()));
                    if let Value::Array(items) = entry {
                        items.push(v);
                    }
                }
                Some((name, rest)) => {
                    let sub = rest.trim_end_matches(']').to_string();
                    let entry = out.entry(name).or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(map) = entry {
                        map.insert(sub, v);
                    }
                }
                None => {
                    out.insert(key.clone(), v);
                }
            }
        }
        Value::Object(out)
    }
}

/// Everything but unreserved characters is escaped in a path segment.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'_').remove(b'-').remove(b'.').remove(b'~');

/// Percent-encodes a value for one URL path segment (`/` included).
pub(crate) fn encode_segment(value: &str) -> String {
    utf8_percent_encode(value, PATH_SEGMENT).to_string()
}

/// Fills a retrieve template's `{id}` with a percent-encoded id.
pub fn retrieve_path(template: &str, id: &str) -> String {
    template.replace("{id}", &encode_segment(id))
}

/// Characters escaped when EXPLAIN prints a query value (keeps it one readable line).
const DISPLAY_VALUE: &AsciiSet = &CONTROLS.add(b' ').add(b'&').add(b'=').add(b'#').add(b'%').add(b'+');

/// How many ids EXPLAIN lists before eliding the rest.
const SHOWN_IDS: usize = 8;

impl fmt::Display for ListRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GET {}", self.path)?;
        for (i, (k, v)) in self.params.iter().enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            write!(f, "{sep}{k}={}", utf8_percent_encode(v, DISPLAY_VALUE))?;
        }
        Ok(())
    }
}

impl fmt::Display for RequestPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestPlan::Empty => write!(f, "no call (contradiction)"),
            RequestPlan::Retrieve { path, ids } if ids.len() == 1 => {
                write!(f, "retrieve GET {}", retrieve_path(path, &ids[0]))
            }
            RequestPlan::Retrieve { path, ids } => {
                write!(f, "retrieve GET {path} ×{} ({}", ids.len(), ids[..ids.len().min(SHOWN_IDS)].join(", "))?;
                if ids.len() > SHOWN_IDS {
                    write!(f, ", …")?;
                }
                write!(f, ")")
            }
            RequestPlan::List { requests, max_rows } => {
                if let [one] = requests.as_slice() {
                    write!(f, "list {one}")?;
                } else {
                    write!(f, "list ×{} merged by id:", requests.len())?;
                    for (i, r) in requests.iter().enumerate() {
                        write!(f, "{} {r}", if i == 0 { "" } else { ";" })?;
                    }
                }
                stop_after(f, *max_rows)
            }
            RequestPlan::Search { path, query, page_size, max_rows } => {
                write!(f, "search GET {path} query=\"{query}\" limit={page_size}")?;
                stop_after(f, *max_rows)?;
                write!(f, " (eventually consistent)")
            }
            RequestPlan::MissingParent { table, column } => {
                write!(f, "no call: {table} needs a filter on its parent, e.g. WHERE {column} = '…'")
            }
        }
    }
}

fn stop_after(f: &mut fmt::Formatter<'_>, max_rows: Option<usize>) -> fmt::Result {
    match max_rows {
        Some(n) => write!(f, ", stop after {n} rows"),
        None => Ok(()),
    }
}

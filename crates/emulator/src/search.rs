//! Stripe's search query language (`/v1/{resource}/search`): a parser and an evaluator,
//! plus `page`/`next_page` pagination over the matches.

use super::errors::{ApiError, ApiResult};
use super::list::parse_limit;
use super::params::Params;
use super::store::State;
use serde_json::{Value, json};

/// Comparison of one clause.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Op {
    /// `field:value` exact match.
    Eq,
    /// `field~value` substring.
    Contains,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    /// Quoted string.
    Str(String),
    /// Unquoted number.
    Num(f64),
    /// `null`.
    Null,
}

/// `[-]field op value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// Negated with `-`.
    pub negate: bool,
    /// Dotted path, or `metadata` + key.
    pub field: Vec<String>,
    /// Comparison.
    pub op: Op,
    /// Value.
    pub value: Lit,
}

/// A whole query: clauses joined all by AND or all by OR.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The clauses.
    pub clauses: Vec<Clause>,
    /// True when joined by OR.
    pub any: bool,
}

/// Fields each searchable resource accepts (Stripe's "query fields" lists).
pub fn fields(resource: &str) -> Option<&'static [&'static str]> {
    Some(match resource {
        "charges" => &[
            "amount",
            "billing_details.address.postal_code",
            "created",
            "currency",
            "customer",
            "disputed",
            "metadata",
            "payment_method_details.card.brand",
            "payment_method_details.card.exp_month",
            "payment_method_details.card.exp_year",
            "payment_method_details.card.fingerprint",
            "payment_method_details.card.last4",
            "refunded",
            "status",
            "payment_intent",
        ],
        "customers" => &["created", "email", "metadata", "name", "phone"],
        "invoices" => &[
            "created",
            "currency",
            "customer",
            "last_finalization_error_code",
            "last_finalization_error_type",
            "metadata",
            "number",
            "receipt_number",
            "status",
            "subscription",
            "total",
        ],
        "payment_intents" => &["amount", "created", "currency", "customer", "metadata", "status"],
        "prices" => &["active", "currency", "lookup_key", "metadata", "product", "type"],
        "products" => &["active", "description", "metadata", "name", "shippable", "url"],
        "subscriptions" => &["created", "metadata", "status"],
        _ => return None,
    })
}

fn err(msg: impl Into<String>) -> ApiError {
    ApiError::invalid_param("query", msg)
}

/// Parses a query and checks its fields against `allowed`.
pub fn parse(input: &str, allowed: &[&str]) -> ApiResult<Query> {
    let mut p = Parser { s: input.as_bytes(), i: 0 };
    let mut clauses = vec![p.clause(allowed)?];
    let mut joiner: Option<bool> = None;
    loop {
        p.ws();
        if p.i >= p.s.len() {
            break;
        }
        let any = if p.keyword("AND") {
            false
        } else if p.keyword("OR") {
            true
        } else {
            return Err(err(format!("Invalid query: expected AND or OR at position {}", p.i)));
        };
        if joiner.is_some_and(|j| j != any) {
            return Err(err("Invalid query: AND and OR cannot be combined in one query"));
        }
        joiner = Some(any);
        clauses.push(p.clause(allowed)?);
    }
    if clauses.len() > 10 {
        return Err(err("Invalid query: a query may contain at most 10 clauses"));
    }
    Ok(Query { clauses, any: joiner == Some(true) })
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn keyword(&mut self, kw: &str) -> bool {
        let end = self.i + kw.len();
        if self.s.len() > end && &self.s[self.i..end] == kw.as_bytes() && self.s[end].is_ascii_whitespace() {
            self.i = end;
            true
        } else {
            false
        }
    }

    fn clause(&mut self, allowed: &[&str]) -> ApiResult<Clause> {
        self.ws();
        let negate = self.s.get(self.i) == Some(&b'-');
        if negate {
            self.i += 1;
        }
        let start = self.i;
        while self.i < self.s.len() && (self.s[self.i].is_ascii_alphanumeric() || b"_.".contains(&self.s[self.i])) {
            self.i += 1;
        }
        let name = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("").to_string();
        if name.is_empty() {
            return Err(err(format!("Invalid query: expected a field name at position {start}")));
        }
        if !allowed.contains(&name.as_str()) {
            return Err(err(format!("Invalid query: field `{name}` is not supported for this search")));
        }
        let mut field: Vec<String> = name.split('.').map(String::from).collect();
        if name == "metadata" {
            if self.s.get(self.i) != Some(&b'[') {
                return Err(err("Invalid query: metadata must be followed by ['key']"));
            }
            self.i += 1;
            let key = self.quoted()?;
            if self.s.get(self.i) != Some(&b']') {
                return Err(err("Invalid query: expected ] after the metadata key"));
            }
            self.i += 1;
            field.push(key);
        }
        let op = match (self.s.get(self.i), self.s.get(self.i + 1)) {
            (Some(b':'), _) => (Op::Eq, 1),
            (Some(b'~'), _) => (Op::Contains, 1),
            (Some(b'>'), Some(b'=')) => (Op::Ge, 2),
            (Some(b'<'), Some(b'=')) => (Op::Le, 2),
            (Some(b'>'), _) => (Op::Gt, 1),
            (Some(b'<'), _) => (Op::Lt, 1),
            _ => {
                return Err(err(format!("Invalid query: expected an operator after `{name}`")));
            }
        };
        self.i += op.1;
        let value = match self.s.get(self.i) {
            Some(b'\'') | Some(b'"') => Lit::Str(self.quoted()?),
            _ => {
                let start = self.i;
                while self.i < self.s.len() && !self.s[self.i].is_ascii_whitespace() {
                    self.i += 1;
                }
                let raw = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("");
                if raw == "null" {
                    Lit::Null
                } else if let Ok(n) = raw.parse::<f64>() {
                    Lit::Num(n)
                } else if raw == "true" || raw == "false" {
                    Lit::Str(raw.to_string())
                } else {
                    return Err(err(format!("Invalid query: value `{raw}` must be quoted")));
                }
            }
        };
        if op.0 == Op::Contains && !matches!(&value, Lit::Str(s) if s.chars().count() >= 3) {
            return Err(err("Invalid query: substring match (~) needs a quoted value of at least 3 characters"));
        }
        if matches!(op.0, Op::Gt | Op::Ge | Op::Lt | Op::Le) && !matches!(value, Lit::Num(_)) {
            return Err(err("Invalid query: range comparisons need a number"));
        }
        Ok(Clause { negate, field, op: op.0, value })
    }

    fn quoted(&mut self) -> ApiResult<String> {
        let q = *self.s.get(self.i).ok_or_else(|| err("Invalid query: expected a quoted value"))?;
        if q != b'\'' && q != b'"' {
            return Err(err("Invalid query: expected a quoted value"));
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.s.get(self.i) {
                None => return Err(err("Invalid query: unterminated string")),
                Some(b'\\') => {
                    let c = *self.s.get(self.i + 1).ok_or_else(|| err("Invalid query: unterminated string"))?;
                    out.push(c);
                    self.i += 2;
                }
                Some(c) if *c == q => {
                    self.i += 1;
                    break;
                }
                Some(c) => {
                    out.push(*c);
                    self.i += 1;
                }
            }
        }
        String::from_utf8(out).map_err(|_| err("Invalid query: invalid utf-8"))
    }
}

impl Query {
    /// True when the object matches.
    pub fn matches(&self, obj: &Value) -> bool {
        let mut it = self.clauses.iter().map(|c| c.matches(obj));
        if self.any { it.any(|b| b) } else { it.all(|b| b) }
    }
}

impl Clause {
    fn matches(&self, obj: &Value) -> bool {
        let mut v = obj;
        for part in &self.field {
            v = &v[part.as_str()];
        }
        // References may be expanded objects; compare their id.
        let v = if v.is_object() && v.get("id").is_some() { &v["id"] } else { v };
        let hit = match (&self.op, &self.value) {
            (Op::Eq, Lit::Null) => v.is_null(),
            (_, Lit::Null) => false,
            (Op::Eq, Lit::Str(s)) => text(v).is_some_and(|t| t.eq_ignore_ascii_case(s)),
            (Op::Eq, Lit::Num(n)) => v.as_f64() == Some(*n) || text(v).is_some_and(|t| t == fmt_num(*n)),
            (Op::Contains, Lit::Str(s)) => text(v).is_some_and(|t| t.to_lowercase().contains(&s.to_lowercase())),
            (Op::Contains, _) => false,
            (op, Lit::Num(n)) => v.as_f64().is_some_and(|x| match op {
                Op::Gt => x > *n,
                Op::Ge => x >= *n,
                Op::Lt => x < *n,
                _ => x <= *n,
            }),
            _ => false,
        };
        hit != self.negate
    }
}

fn fmt_num(n: f64) -> String {
    if n.fract() == 0.0 { format!("{}", n as i64) } else { n.to_string() }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Runs a search request: `query` (required), `limit`, `page`.
pub fn run(state: &State, resource: &str, url: &str, params: &Params) -> ApiResult<Value> {
    params.check_allowed(&["query", "limit", "page"])?;
    let allowed = fields(resource).ok_or_else(|| ApiError::invalid("search is not supported for this resource"))?;
    let query = parse(&params.req_str("query")?, allowed)?;
    let limit = parse_limit(params)?;
    let offset = match params.str("page")? {
        None => 0usize,
        Some(p) => p
            .strip_prefix("page_")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| ApiError::invalid_param("page", format!("Invalid page: {p}")))?,
    };
    // `expand[]=total_count` asks for the number of matches (a full count).
    let want_total = params.expand().iter().any(|e| e == "total_count");
    let mut matched = 0usize;
    let mut data = Vec::with_capacity(limit);
    let mut has_more = false;
    if let Some(col) = state.col(resource) {
        for v in col.iter().rev() {
            if !query.matches(v) {
                continue;
            }
            if matched >= offset + limit {
                has_more = true;
                if !want_total {
                    break;
                }
                matched += 1;
                continue;
            }
            if matched >= offset {
                data.push(v.clone());
            }
            matched += 1;
        }
    }
    let next_page = if has_more { json!(format!("page_{}", offset + limit)) } else { Value::Null };
    let mut out =
        json!({"object": "search_result", "data": data, "has_more": has_more, "next_page": next_page, "url": url});
    if want_total {
        out["total_count"] = json!(matched);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &[&str] = &["email", "amount", "metadata", "name", "created", "status"];

    #[test]
    fn parses_and_evaluates() {
        let q = parse(r#"email:'a@b.c' AND metadata['plan']:"pro" AND amount>=100"#, F).unwrap();
        assert_eq!(q.clauses.len(), 3);
        let obj = json!({"email": "A@b.c", "metadata": {"plan": "pro"}, "amount": 150});
        assert!(q.matches(&obj));
        assert!(!q.matches(&json!({"email": "a@b.c", "metadata": {"plan": "pro"}, "amount": 50})));
        let q = parse(r"name~'o\'br' OR -status:'active'", F).unwrap();
        assert!(q.any);
        assert!(q.matches(&json!({"name": "Tim O'Brien", "status": "active"})));
        assert!(!q.matches(&json!({"name": "Tim", "status": "active"})));
    }

    #[test]
    fn rejects_bad_queries() {
        assert!(parse("email:'a' AND name:'b' OR status:'c'", F).is_err());
        assert!(parse("colour:'red'", F).is_err());
        assert!(parse("name~'ab'", F).is_err());
        assert!(parse("name:'open", F).is_err());
        assert!(parse("amount>'x'", F).is_err());
        assert!(parse("", F).is_err());
    }
}

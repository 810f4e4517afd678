//! A request checker built from Stripe's OpenAPI spec (`spec3.json`): for every
//! request-log entry, the path must match a spec path template, the method must
//! exist on it, every bracket-form param name must walk the operation's query or
//! body schema, and every value must have the schema's type (and enum, max length).

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use stripe_sql::stripe::LogEntry;

/// `stripe-openapi/spec3.json` beside the crate (`../shared`) or in `/work/shared`,
/// as the catalog tests find it.
pub fn load_spec() -> Option<Value> {
    let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/stripe-openapi/spec3.json");
    let fallback = PathBuf::from("/work/shared/stripe-openapi/spec3.json");
    let path = [beside, fallback].into_iter().find(|p| p.exists())?;
    Some(serde_json::from_str(&std::fs::read_to_string(path).ok()?).expect("spec3.json parses"))
}

/// The spec's operations, ready to check requests against.
pub struct Checker {
    spec: Value,
    /// Distinct `METHOD template` pairs that checked requests hit.
    pub covered: BTreeSet<String>,
    /// Requests checked.
    pub checked: usize,
}

impl Checker {
    /// Wraps a parsed spec.
    pub fn new(spec: Value) -> Self {
        Checker { spec, covered: BTreeSet::new(), checked: 0 }
    }

    /// The spec path template a concrete path matches; literal segments win over
    /// placeholders (`/v1/customers/search` over `/v1/customers/{customer}`).
    pub fn template(&self, path: &str) -> Option<String> {
        let segs: Vec<&str> = path.split('/').collect();
        let paths = self.spec["paths"].as_object()?;
        paths
            .keys()
            .filter_map(|t| {
                let tsegs: Vec<&str> = t.split('/').collect();
                if tsegs.len() != segs.len() {
                    return None;
                }
                let mut literal = 0;
                for (a, b) in tsegs.iter().zip(&segs) {
                    if a.starts_with('{') && a.ends_with('}') {
                        if b.is_empty() {
                            return None;
                        }
                    } else if a == b {
                        literal += 1;
                    } else {
                        return None;
                    }
                }
                Some((literal, t))
            })
            .max_by_key(|(literal, _)| *literal)
            .map(|(_, t)| t.clone())
    }

    /// Checks one request; returns what is wrong with it (empty when it conforms).
    pub fn check(&mut self, method: &str, path: &str, params: &[(String, String)]) -> Vec<String> {
        self.checked += 1;
        let Some(template) = self.template(path) else {
            return vec![format!("{method} {path}: no spec path matches")];
        };
        let m = method.to_ascii_lowercase();
        let Some(op) = self.spec["paths"][&template].get(&m).cloned() else {
            return vec![format!("{method} {path}: the spec has no {method} on {template}")];
        };
        self.covered.insert(format!("{method} {template}"));
        let mut problems = vec![];
        for (name, value) in params {
            if let Err(why) = self.check_param(&op, name, value) {
                problems.push(format!("{method} {template}: param {name}={value:?}: {why}"));
            }
        }
        problems
    }

    /// Checks every entry of a request log; returns all problems found.
    pub fn check_log(&mut self, entries: &[LogEntry]) -> Vec<String> {
        entries.iter().flat_map(|e| self.check(&e.method, &e.path, &e.params)).collect()
    }

    fn check_param(&self, op: &Value, name: &str, value: &str) -> Result<(), String> {
        let segs = bracket_segments(name).ok_or("not a bracket-form name")?;
        let top = self
            .top_schema(op, &segs[0])
            .ok_or_else(|| format!("`{}` is not a parameter of this operation", segs[0]))?;
        self.walk(&top, &segs[1..], value)
    }

    /// The schema of a top-level name: a query parameter or a body property.
    fn top_schema(&self, op: &Value, name: &str) -> Option<Value> {
        let query = op["parameters"].as_array().into_iter().flatten().find(|p| p["in"] == "query" && p["name"] == name);
        if let Some(p) = query {
            return Some(p["schema"].clone());
        }
        let body = op["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"].clone();
        self.resolve(&body)["properties"].get(name).cloned()
    }

    fn resolve(&self, schema: &Value) -> Value {
        let mut s = schema.clone();
        for _ in 0..16 {
            match s.get("$ref").and_then(Value::as_str) {
                Some(r) => s = self.spec["components"]["schemas"][r.rsplit('/').next().unwrap_or("")].clone(),
                None => break,
            }
        }
        s
    }

    /// Walks the remaining name segments into `schema`, then type-checks the value.
    fn walk(&self, schema: &Value, rest: &[String], value: &str) -> Result<(), String> {
        let schema = self.resolve(schema);
        if let Some(alts) = schema.get("anyOf").or_else(|| schema.get("oneOf")).and_then(Value::as_array) {
            let mut why = vec![];
            for alt in alts {
                match self.walk(alt, rest, value) {
                    Ok(()) => return Ok(()),
                    Err(e) => why.push(e),
                }
            }
            return Err(why.join(" / "));
        }
        let Some((seg, tail)) = rest.split_first() else {
            return leaf(&schema, value);
        };
        match schema["type"].as_str() {
            Some("object") => {
                if let Some(p) = schema["properties"].get(seg.as_str()) {
                    self.walk(p, tail, value)
                } else if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                    self.walk(extra, tail, value)
                } else {
                    Err(format!("unknown key `{seg}`"))
                }
            }
            Some("array") if seg.is_empty() || seg.chars().all(|c| c.is_ascii_digit()) => {
                self.walk(&schema["items"], tail, value)
            }
            other => Err(format!("`[{seg}]` indexes a {}", other.unwrap_or("untyped value"))),
        }
    }
}

/// Checks a scalar value against a leaf schema.
fn leaf(schema: &Value, value: &str) -> Result<(), String> {
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.iter().any(|a| a.as_str() == Some(value))
    {
        return Err(format!("not one of {allowed:?}"));
    }
    let ok = match schema["type"].as_str() {
        Some("string") => schema["maxLength"].as_u64().is_none_or(|max| value.chars().count() as u64 <= max),
        Some("integer") => value.parse::<i64>().is_ok(),
        Some("number") => value.parse::<f64>().is_ok_and(f64::is_finite),
        Some("boolean") => value == "true" || value == "false",
        Some(other) => return Err(format!("a scalar where the spec wants {other}")),
        None => true,
    };
    if ok { Ok(()) } else { Err(format!("not a valid {}", schema["type"].as_str().unwrap_or("value"))) }
}

/// `a[b][]` -> `["a", "b", ""]`; `None` for malformed names.
pub fn bracket_segments(name: &str) -> Option<Vec<String>> {
    let (head, mut rest) = match name.find('[') {
        Some(i) => (&name[..i], &name[i..]),
        None => (name, ""),
    };
    if head.is_empty() {
        return None;
    }
    let mut segs = vec![head.to_string()];
    while !rest.is_empty() {
        let inner = rest.strip_prefix('[')?;
        let close = inner.find(']')?;
        segs.push(inner[..close].to_string());
        rest = &inner[close + 1..];
    }
    Some(segs)
}

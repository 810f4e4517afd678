//! Typed access to form parameters with Stripe's validation errors, and the generic
//! rules for writing them into objects (coercion, `""` unsets, metadata merging).

use super::errors::{ApiError, ApiResult};
use serde_json::{Map, Value};

/// Parameters of one request (strings, objects and arrays as parsed from the form).
#[derive(Debug, Clone, Default)]
pub struct Params(pub Map<String, Value>);

/// Parameters every endpoint accepts.
const ALWAYS: &[&str] = &["expand"];

impl Params {
    /// Raw value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// True when the parameter was sent.
    pub fn has(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Fails with "Received unknown parameter" for anything outside `allowed`.
    pub fn check_allowed(&self, allowed: &[&str]) -> ApiResult<()> {
        for k in self.0.keys() {
            if !allowed.contains(&k.as_str()) && !ALWAYS.contains(&k.as_str()) {
                return Err(ApiError::unknown_param(k));
            }
        }
        Ok(())
    }

    /// A string parameter (`None` when absent or empty).
    pub fn str(&self, key: &str) -> ApiResult<Option<String>> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(ApiError::invalid_param(key, format!("Invalid string: {key} must be a string"))),
        }
    }

    /// A required string parameter.
    pub fn req_str(&self, key: &str) -> ApiResult<String> {
        self.str(key)?.ok_or_else(|| ApiError::missing(key))
    }

    /// An integer parameter.
    pub fn int(&self, key: &str) -> ApiResult<Option<i64>> {
        match self.0.get(key) {
            None => Ok(None),
            Some(v) => parse_int(key, v).map(Some),
        }
    }

    /// A required integer parameter.
    pub fn req_int(&self, key: &str) -> ApiResult<i64> {
        self.int(key)?.ok_or_else(|| ApiError::missing(key))
    }

    /// A boolean parameter (`true`/`false`).
    pub fn bool(&self, key: &str) -> ApiResult<Option<bool>> {
        match self.0.get(key) {
            None => Ok(None),
            Some(v) => parse_bool(key, v).map(Some),
        }
    }

    /// `expand[]` values.
    pub fn expand(&self) -> Vec<String> {
        match self.0.get("expand") {
            Some(Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
            Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
            _ => vec![],
        }
    }

    /// A nested hash parameter (`None` when absent).
    pub fn obj(&self, key: &str) -> ApiResult<Option<Params>> {
        match self.0.get(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(Params(m.clone()))),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(_) => Err(ApiError::invalid_param(key, format!("Invalid object: {key} must be a hash"))),
        }
    }

    /// An array-of-hashes parameter (`items[0][price]=...`).
    pub fn list(&self, key: &str) -> ApiResult<Vec<Params>> {
        match self.0.get(key) {
            None => Ok(vec![]),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| match v {
                    Value::Object(m) => Ok(Params(m.clone())),
                    _ => Err(ApiError::invalid_param(key, format!("Invalid array: {key} must be an array of hashes"))),
                })
                .collect(),
            Some(Value::String(s)) if s.is_empty() => Ok(vec![]),
            Some(_) => Err(ApiError::invalid_param(key, format!("Invalid array: {key} must be an array"))),
        }
    }
}

/// Parses an integer form value.
pub fn parse_int(key: &str, v: &Value) -> ApiResult<i64> {
    match v {
        Value::String(s) => {
            s.trim().parse::<i64>().map_err(|_| ApiError::invalid_param(key, format!("Invalid integer: {s}")))
        }
        Value::Number(n) => n.as_i64().ok_or_else(|| ApiError::invalid_param(key, format!("Invalid integer: {n}"))),
        _ => Err(ApiError::invalid_param(key, format!("Invalid integer: {key} must be an integer"))),
    }
}

/// Parses a boolean form value.
pub fn parse_bool(key: &str, v: &Value) -> ApiResult<bool> {
    match v {
        Value::String(s) if s == "true" => Ok(true),
        Value::String(s) if s == "false" => Ok(false),
        Value::Bool(b) => Ok(*b),
        other => Err(ApiError::invalid_param(key, format!("Invalid boolean: {}", other.as_str().unwrap_or("?")))),
    }
}

/// Parameter names whose values are integers wherever they appear.
const INT_KEYS: &[&str] = &[
    "amount",
    "amount_off",
    "unit_amount",
    "quantity",
    "days_until_due",
    "due_date",
    "cancel_at",
    "trial_end",
    "expires_at",
    "max_redemptions",
    "duration_in_months",
    "redeem_by",
    "balance",
    "next_invoice_sequence",
    "application_fee_amount",
    "exp_month",
    "exp_year",
    "interval_count",
    "trial_period_days",
    "arrival_date",
    "start",
    "end",
    "billing_cycle_anchor",
    "amount_to_capture",
    "resumes_at",
    "backdate_start_date",
];
/// Parameter names whose values are booleans wherever they appear.
const BOOL_KEYS: &[&str] = &[
    "active",
    "shippable",
    "cancel_at_period_end",
    "auto_advance",
    "discountable",
    "paid_out_of_band",
    "off_session",
    "enabled",
    "submit",
    "tax_exempt_bool",
    "prorate",
    "trial_from_plan",
];
/// Parameter names whose values are decimal numbers.
const FLOAT_KEYS: &[&str] = &["percent_off", "application_fee_percent"];

/// Converts string leaves to numbers/booleans by key name; `""` becomes null.
pub fn coerce(key: &str, v: &Value) -> ApiResult<Value> {
    Ok(match v {
        Value::String(s) if s.is_empty() => Value::Null,
        Value::String(_) if INT_KEYS.contains(&key) => Value::from(parse_int(key, v)?),
        Value::String(_) if BOOL_KEYS.contains(&key) => Value::Bool(parse_bool(key, v)?),
        Value::String(s) if FLOAT_KEYS.contains(&key) => {
            let f: f64 = s.parse().map_err(|_| ApiError::invalid_param(key, format!("Invalid decimal: {s}")))?;
            serde_json::Number::from_f64(f).map(Value::Number).unwrap_or(Value::Null)
        }
        Value::Object(m) if key == "metadata" => Value::Object(m.clone()),
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                out.insert(k.clone(), coerce(k, v)?);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| coerce(key, x)).collect::<ApiResult<_>>()?),
        other => other.clone(),
    })
}

/// Applies `metadata` with Stripe's rules: keys merge, a key set to `""` is removed,
/// `metadata=""` clears every key.
pub fn apply_metadata(obj: &mut Map<String, Value>, value: &Value) -> ApiResult<()> {
    let current = obj.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    if !current.is_object() {
        *current = Value::Object(Map::new());
    }
    let cur = current.as_object_mut().expect("object");
    match value {
        Value::String(s) if s.is_empty() => cur.clear(),
        Value::Object(m) => {
            for (k, v) in m {
                match v {
                    Value::String(s) if s.is_empty() => {
                        cur.remove(k);
                    }
                    Value::String(s) => {
                        cur.insert(k.clone(), Value::String(s.clone()));
                    }
                    _ => {
                        return Err(ApiError::invalid_param(
                            &format!("metadata[{k}]"),
                            "Invalid metadata value: must be a string",
                        ));
                    }
                }
            }
        }
        _ => return Err(ApiError::invalid_param("metadata", "Invalid hash")),
    }
    Ok(())
}

/// Writes one parameter into an object: metadata merges, hashes merge key by key,
/// `""` sets null, everything else replaces.
pub fn apply_field(obj: &mut Map<String, Value>, key: &str, value: &Value) -> ApiResult<()> {
    if key == "metadata" {
        return apply_metadata(obj, value);
    }
    let coerced = coerce(key, value)?;
    match (obj.get_mut(key), coerced) {
        (Some(Value::Object(cur)), Value::Object(new)) => {
            for (k, v) in new {
                cur.insert(k, v);
            }
        }
        (_, v) => {
            obj.insert(key.to_string(), v);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_merge_unset_and_clear() {
        let mut o = json!({"metadata": {"a": "1", "b": "2"}}).as_object().unwrap().clone();
        apply_metadata(&mut o, &json!({"b": "", "c": "3"})).unwrap();
        assert_eq!(o["metadata"], json!({"a": "1", "c": "3"}));
        apply_metadata(&mut o, &json!("")).unwrap();
        assert_eq!(o["metadata"], json!({}));
    }

    #[test]
    fn coercion_by_key_and_errors() {
        assert_eq!(coerce("amount", &json!("12")).unwrap(), json!(12));
        assert_eq!(coerce("active", &json!("false")).unwrap(), json!(false));
        assert_eq!(coerce("x", &json!({"quantity": "2"})).unwrap(), json!({"quantity": 2}));
        assert_eq!(coerce("description", &json!("")).unwrap(), Value::Null);
        assert!(coerce("amount", &json!("abc")).is_err());
        let p = Params(json!({"zz": "1"}).as_object().unwrap().clone());
        assert_eq!(p.check_allowed(&["a"]).unwrap_err().param.as_deref(), Some("zz"));
    }
}

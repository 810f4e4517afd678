//! Checks an action's body parameters against the catalog before anything is
//! sent: unknown names (with the accepted ones as a hint), missing required
//! params, and values of the wrong shape. Values are coerced the way SQL users
//! write them: `'500'` for an integer, `'{"k":"v"}'` for metadata, `'now'`
//! for a timestamp where Stripe allows it.

use serde_json::{Map, Value};

use crate::catalog::{ParamDef, ParamType};

/// Validates `given` against `defs` and returns the body to send (same order).
/// `function` names the action in messages.
pub fn check(function: &str, defs: &[ParamDef], given: Map<String, Value>) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (name, value) in given {
        let def = defs.iter().find(|d| d.name == name).ok_or_else(|| unknown(function, &name, defs))?;
        if value.is_null() {
            continue;
        }
        let value =
            coerce(&def.ty, value, def.unsettable).map_err(|why| format!("{function}: parameter {name} {why}"))?;
        out.insert(name, value);
    }
    let missing: Vec<&str> =
        defs.iter().filter(|d| d.required && !out.contains_key(&d.name)).map(|d| d.name.as_str()).collect();
    if !missing.is_empty() {
        let example: Vec<String> = missing.iter().map(|m| format!("{m} => …")).collect();
        return Err(format!(
            "{function} needs {}: write {function}('<id>', {})",
            missing.join(", "),
            example.join(", ")
        ));
    }
    Ok(out)
}

fn unknown(function: &str, name: &str, defs: &[ParamDef]) -> String {
    if defs.is_empty() {
        return format!("{function} takes no parameters besides the id, got {name}");
    }
    let names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
    format!("{function} has no parameter {name}; it accepts: {}", names.join(", "))
}

/// Coerces one value to `ty`; the error says what was expected.
fn coerce(ty: &ParamType, value: Value, unsettable: bool) -> Result<Value, String> {
    if unsettable && value == Value::String(String::new()) {
        return Ok(value);
    }
    match ty {
        ParamType::String => match value {
            Value::String(_) => Ok(value),
            Value::Number(n) => Ok(Value::String(n.to_string())),
            Value::Bool(b) => Ok(Value::String(b.to_string())),
            other => Err(format!("must be text, got {other}")),
        },
        ParamType::Enum { values } => match &value {
            Value::String(s) if values.iter().any(|v| v == s) => Ok(value),
            other => Err(format!("must be one of {}, got {other}", values.join(", "))),
        },
        ParamType::Integer => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Value::Number(n)),
            Value::String(s) if s.trim().parse::<i64>().is_ok() => {
                Ok(Value::from(s.trim().parse::<i64>().unwrap_or_default()))
            }
            other => Err(format!("must be a whole number, got {other}")),
        },
        ParamType::Number => match value {
            Value::Number(_) => Ok(value),
            Value::String(s) if s.trim().parse::<f64>().is_ok() => Ok(Value::String(s.trim().to_string())),
            other => Err(format!("must be a number, got {other}")),
        },
        ParamType::Boolean => match value {
            Value::Bool(_) => Ok(value),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            other => Err(format!("must be true or false, got {other}")),
        },
        ParamType::Timestamp => match value {
            Value::Number(n) if n.is_i64() => Ok(Value::Number(n)),
            Value::String(s) if s == "now" => Ok(Value::String(s)),
            Value::String(s) if s.trim().parse::<i64>().is_ok() => {
                Ok(Value::from(s.trim().parse::<i64>().unwrap_or_default()))
            }
            other => Err(format!("must be a timestamp or unix seconds, got {other}")),
        },
        ParamType::StringMap => match json_text(value)? {
            Value::Object(map) => Ok(Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let v = match v {
                            Value::String(_) | Value::Null => v,
                            other => Value::String(other.to_string()),
                        };
                        (k, v)
                    })
                    .collect(),
            )),
            other => Err(format!("must be a map of strings (MAP {{'k': 'v'}} or '{{\"k\": \"v\"}}'), got {other}")),
        },
        ParamType::Object { fields } => match json_text(value)? {
            Value::Object(map) if fields.is_empty() => Ok(Value::Object(map)),
            Value::Object(map) => {
                let mut out = Map::new();
                for (name, inner) in map {
                    let def = fields.iter().find(|f| f.name == name).ok_or_else(|| {
                        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                        format!("has no field {name}; its fields are: {}", names.join(", "))
                    })?;
                    if inner.is_null() {
                        continue;
                    }
                    out.insert(
                        name.clone(),
                        coerce(&def.ty, inner, def.unsettable).map_err(|why| format!("field {name} {why}"))?,
                    );
                }
                Ok(Value::Object(out))
            }
            other => Err(format!("must be an object (named_struct(...) or JSON text), got {other}")),
        },
        ParamType::Array { items } => match json_text(value)? {
            Value::Array(values) => {
                values.into_iter().map(|v| coerce(items, v, false)).collect::<Result<Vec<_>, _>>().map(Value::Array)
            }
            other => Err(format!("must be an array (ARRAY[...] or JSON text), got {other}")),
        },
        ParamType::Any => json_text(value),
    }
}

/// A string that holds a JSON object or array is read as that JSON.
fn json_text(value: Value) -> Result<Value, String> {
    match &value {
        Value::String(s) if s.trim_start().starts_with(['{', '[']) => {
            serde_json::from_str(s).map_err(|e| format!("holds text that is not valid JSON ({e})"))
        }
        _ => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defs() -> Vec<ParamDef> {
        let p =
            |name: &str, ty: ParamType, required: bool| ParamDef { name: name.into(), required, ty, unsettable: false };
        vec![
            p("amount", ParamType::Integer, true),
            p("reason", ParamType::Enum { values: vec!["duplicate".into(), "fraudulent".into()] }, false),
            p("metadata", ParamType::StringMap, false),
            p("invoice_now", ParamType::Boolean, false),
            p("transfer_data", ParamType::Object { fields: vec![p("amount", ParamType::Integer, false)] }, false),
        ]
    }

    fn given(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn coerces_sql_spellings() {
        let out = check(
            "f",
            &defs(),
            given(json!({"amount": "500", "metadata": "{\"k\": 1}", "invoice_now": "true", "transfer_data": {"amount": 5}})),
        )
        .unwrap();
        assert_eq!(
            Value::Object(out),
            json!({"amount": 500, "metadata": {"k": "1"}, "invoice_now": true, "transfer_data": {"amount": 5}})
        );
    }

    #[test]
    fn reports_unknown_missing_and_bad_values() {
        let err = check("f", &defs(), given(json!({"amount": 1, "colour": "red"}))).unwrap_err();
        assert!(err.contains("has no parameter colour") && err.contains("amount, reason"), "{err}");
        let err = check("f", &defs(), given(json!({"reason": "duplicate"}))).unwrap_err();
        assert!(err.contains("needs amount"), "{err}");
        let err = check("f", &defs(), given(json!({"amount": 1, "reason": "bored"}))).unwrap_err();
        assert!(err.contains("must be one of duplicate, fraudulent"), "{err}");
        let err = check("f", &defs(), given(json!({"amount": 1.5}))).unwrap_err();
        assert!(err.contains("whole number"), "{err}");
        let err = check("f", &defs(), given(json!({"amount": 1, "transfer_data": {"destination": "x"}}))).unwrap_err();
        assert!(err.contains("has no field destination"), "{err}");
    }

    #[test]
    fn null_means_omitted() {
        let out = check("f", &defs(), given(json!({"amount": 1, "reason": null}))).unwrap();
        assert_eq!(Value::Object(out), json!({"amount": 1}));
    }
}

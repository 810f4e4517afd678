//! Request body schema → `ParamDef`s (create, update and action parameters).

use serde_json::Value;

use super::spec::Spec;
use stripe_catalog::model::{ParamDef, ParamType};

/// Nesting depth kept in the catalog; deeper shapes are `Any` (sent as given).
const MAX_DEPTH: usize = 4;

/// Body parameters of an operation's form schema, `expand` excluded, sorted by name.
pub fn body_params(spec: &Spec<'_>, body: &Value) -> Vec<ParamDef> {
    let mut params = object_fields(spec, body, 0);
    params.retain(|p| p.name != "expand");
    params
}

/// The fields of an object schema, sorted by name.
fn object_fields(spec: &Spec<'_>, schema: &Value, depth: usize) -> Vec<ParamDef> {
    let required: Vec<&str> =
        schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let mut fields: Vec<ParamDef> = schema["properties"]
        .as_object()
        .map(|props| {
            props
                .iter()
                .map(|(name, prop)| {
                    let (ty, unsettable) = param_type(spec, prop, depth);
                    ParamDef { name: name.clone(), required: required.contains(&name.as_str()), ty, unsettable }
                })
                .collect()
        })
        .unwrap_or_default();
    fields.sort_by(|a, b| a.name.cmp(&b.name));
    fields
}

/// The shape of one parameter, and whether `""` unsets it.
pub fn param_type(spec: &Spec<'_>, prop: &Value, depth: usize) -> (ParamType, bool) {
    let prop = spec.resolve(prop);
    if let Some(variants) = prop.get("anyOf").or_else(|| prop.get("oneOf")).and_then(Value::as_array) {
        let unsettable = variants.iter().any(is_empty_string_enum);
        let rest: Vec<&Value> = variants.iter().filter(|v| !is_empty_string_enum(v)).collect();
        let ty = match rest.as_slice() {
            [only] => param_type(spec, only, depth).0,
            many if is_now_or_time(many) => ParamType::Timestamp,
            _ => ParamType::Any,
        };
        return (ty, unsettable);
    }
    let ty = match prop["type"].as_str() {
        Some("integer") if prop["format"] == "unix-time" => ParamType::Timestamp,
        Some("integer") => ParamType::Integer,
        Some("number") => ParamType::Number,
        Some("string") if prop["format"] == "decimal" => ParamType::Number,
        Some("string") => match prop["enum"].as_array() {
            Some(values) => {
                let values: Vec<String> = values.iter().filter_map(Value::as_str).map(str::to_string).collect();
                if values.iter().all(|v| v.is_empty()) { ParamType::String } else { ParamType::Enum { values } }
            }
            None => ParamType::String,
        },
        Some("boolean") => ParamType::Boolean,
        Some("array") if depth < MAX_DEPTH => {
            ParamType::Array { items: Box::new(param_type(spec, &prop["items"], depth + 1).0) }
        }
        Some("object") if prop["additionalProperties"]["type"] == "string" && prop.get("properties").is_none() => {
            ParamType::StringMap
        }
        Some("object") if prop.get("properties").is_some() && depth < MAX_DEPTH => {
            ParamType::Object { fields: object_fields(spec, prop, depth + 1) }
        }
        _ => ParamType::Any,
    };
    let unsettable = prop["enum"].as_array().is_some_and(|vs| vs.iter().any(|v| v == ""));
    (ty, unsettable)
}

/// `{enum: [""]}`: the variant that lets a parameter be unset.
fn is_empty_string_enum(v: &Value) -> bool {
    v["enum"].as_array().is_some_and(|vs| vs.len() == 1 && vs[0] == "")
}

/// `anyOf [unix-time integer, enum ["now"]]` (e.g. `trial_end`).
fn is_now_or_time(variants: &[&Value]) -> bool {
    variants.iter().any(|v| v["format"] == "unix-time")
        && variants.iter().all(|v| v["format"] == "unix-time" || v["type"] == "string")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ty(prop: Value) -> (ParamType, bool) {
        let root = json!({});
        param_type(&Spec::new(&root), &prop, 0)
    }

    #[test]
    fn metadata_with_empty_string_is_an_unsettable_map() {
        let p = json!({"anyOf": [{"type": "object", "additionalProperties": {"type": "string"}}, {"enum": [""], "type": "string"}]});
        assert_eq!(ty(p), (ParamType::StringMap, true));
    }

    #[test]
    fn timestamps_numbers_and_enums() {
        assert_eq!(ty(json!({"type": "integer", "format": "unix-time"})).0, ParamType::Timestamp);
        assert_eq!(
            ty(json!({"anyOf": [{"type": "integer", "format": "unix-time"}, {"enum": ["now"], "type": "string"}]})).0,
            ParamType::Timestamp
        );
        assert_eq!(ty(json!({"type": "string", "format": "decimal"})).0, ParamType::Number);
        assert_eq!(
            ty(json!({"type": "string", "enum": ["a", ""]})),
            (ParamType::Enum { values: vec!["a".into(), "".into()] }, true)
        );
    }

    #[test]
    fn nested_objects_keep_required_fields() {
        let p = json!({"type": "object", "required": ["price"], "properties": {"price": {"type": "string"}, "quantity": {"type": "integer"}}});
        let (ParamType::Object { fields }, false) = ty(json!({"type": "array", "items": p})).0.clone_items() else {
            panic!("not an array of objects")
        };
        assert!(fields[0].required && fields[0].name == "price");
        assert!(!fields[1].required && fields[1].ty == ParamType::Integer);
    }

    trait CloneItems {
        fn clone_items(&self) -> (ParamType, bool);
    }
    impl CloneItems for ParamType {
        fn clone_items(&self) -> (ParamType, bool) {
            match self {
                ParamType::Array { items } => ((**items).clone(), false),
                other => (other.clone(), true),
            }
        }
    }
}

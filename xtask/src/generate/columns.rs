//! Schema → column typing: how one property of a Stripe object becomes a
//! catalog column (DESIGN.md §3 "Types").

use serde_json::Value;

use super::spec::Spec;
use stripe_catalog::model::{ColumnDef, ColumnType};

/// The column for property `name` with schema `prop`.
pub fn column_for(spec: &Spec<'_>, name: &str, prop: &Value) -> ColumnDef {
    let (mut ty, expandable, enum_values) = classify(spec, prop);
    // A few schemas omit `format: unix-time` on `created`; it is always unix seconds.
    if name == "created" && ty == ColumnType::Int64 {
        ty = ColumnType::Timestamp;
    }
    ColumnDef { name: name.to_string(), ty, source: Vec::new(), expandable, enum_values }
}

/// Type, expandable flag and enum values of a property schema.
pub fn classify(spec: &Spec<'_>, prop: &Value) -> (ColumnType, bool, Vec<String>) {
    if let Some(variants) = prop.get("anyOf").or_else(|| prop.get("oneOf")).and_then(Value::as_array) {
        return classify_variants(spec, variants);
    }
    if prop.get("$ref").is_some() {
        let target = spec.resolve(prop);
        if target.get("$ref").is_some() {
            return (ColumnType::Json, false, Vec::new());
        }
        return classify(spec, target);
    }
    match prop.get("type").and_then(Value::as_str) {
        Some("integer") if prop["format"] == "unix-time" => (ColumnType::Timestamp, false, Vec::new()),
        Some("integer") => (ColumnType::Int64, false, Vec::new()),
        Some("number") => (ColumnType::Float64, false, Vec::new()),
        Some("boolean") => (ColumnType::Boolean, false, Vec::new()),
        Some("string") => (ColumnType::Utf8, false, enum_values(prop)),
        Some("array") if is_plain_string(&prop["items"]) => (ColumnType::StringList, false, Vec::new()),
        Some("object") if is_string_map(prop) => (ColumnType::StringMap, false, Vec::new()),
        _ => (ColumnType::Json, false, Vec::new()),
    }
}

/// `anyOf`: a string id next to object variants is an expandable reference;
/// a single variant is that variant (made nullable); anything else is JSON.
fn classify_variants(spec: &Spec<'_>, variants: &[Value]) -> (ColumnType, bool, Vec<String>) {
    let has_id = variants.iter().any(is_plain_string);
    let has_object = variants.iter().any(|v| v.get("$ref").is_some() || v["type"] == "object");
    if has_id && has_object {
        return (ColumnType::Utf8, true, Vec::new());
    }
    match variants {
        [only] => classify(spec, only),
        _ => (ColumnType::Json, false, Vec::new()),
    }
}

/// A `type: string` schema without enum (an id or free text).
fn is_plain_string(schema: &Value) -> bool {
    schema["type"] == "string" && schema.get("enum").is_none()
}

/// `{type: object, additionalProperties: {type: string}}` without declared properties.
fn is_string_map(schema: &Value) -> bool {
    schema["additionalProperties"]["type"] == "string" && schema.get("properties").is_none()
}

/// The enum values of a string schema, in spec order.
fn enum_values(schema: &Value) -> Vec<String> {
    schema["enum"]
        .as_array()
        .map(|vs| vs.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// Merges the columns of several item schemas (polymorphic lists such as a
/// customer's sources): a property whose type differs between them becomes
/// JSON. An id that some variants can expand and others cannot is still the
/// id as text (expandable): a parent key such as a source's `customer` must
/// stay filterable.
pub fn merge_columns(per_schema: Vec<Vec<ColumnDef>>) -> Vec<ColumnDef> {
    let mut merged: Vec<ColumnDef> = Vec::new();
    for columns in per_schema {
        for col in columns {
            match merged.iter_mut().find(|c| c.name == col.name) {
                Some(existing)
                    if existing.ty == ColumnType::Utf8
                        && col.ty == ColumnType::Utf8
                        && existing.expandable != col.expandable =>
                {
                    existing.expandable = true;
                    existing.enum_values.clear();
                }
                Some(existing) if existing.ty != col.ty || existing.expandable != col.expandable => {
                    existing.ty = ColumnType::Json;
                    existing.expandable = false;
                    existing.enum_values.clear();
                }
                Some(existing) => {
                    for v in col.enum_values {
                        if !existing.enum_values.contains(&v) {
                            existing.enum_values.push(v);
                        }
                    }
                }
                None => merged.push(col),
            }
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ty(prop: Value) -> (ColumnType, bool, Vec<String>) {
        let root = json!({"components": {"schemas": {"address": {"type": "object", "properties": {"city": {"type": "string"}}}}}});
        classify(&Spec::new(&root), &prop)
    }

    #[test]
    fn unix_time_integers_are_timestamps_and_others_int64() {
        assert_eq!(ty(json!({"type": "integer", "format": "unix-time"})).0, ColumnType::Timestamp);
        assert_eq!(ty(json!({"type": "integer"})).0, ColumnType::Int64);
        assert_eq!(ty(json!({"type": "number"})).0, ColumnType::Float64);
        assert_eq!(ty(json!({"type": "boolean"})).0, ColumnType::Boolean);
    }

    #[test]
    fn enums_keep_their_values() {
        let (t, exp, values) = ty(json!({"type": "string", "enum": ["a", "b"]}));
        assert_eq!((t, exp), (ColumnType::Utf8, false));
        assert_eq!(values, vec!["a", "b"]);
    }

    #[test]
    fn string_or_ref_is_an_expandable_id() {
        let (t, exp, _) = ty(json!({"anyOf": [{"type": "string"}, {"$ref": "#/components/schemas/address"}]}));
        assert_eq!((t, exp), (ColumnType::Utf8, true));
    }

    #[test]
    fn single_ref_any_of_is_json_not_expandable() {
        let (t, exp, _) = ty(json!({"anyOf": [{"$ref": "#/components/schemas/address"}], "nullable": true}));
        assert_eq!((t, exp), (ColumnType::Json, false));
    }

    #[test]
    fn metadata_maps_string_lists_and_nested_objects() {
        assert_eq!(ty(json!({"type": "object", "additionalProperties": {"type": "string"}})).0, ColumnType::StringMap);
        assert_eq!(ty(json!({"type": "object", "additionalProperties": {"type": "integer"}})).0, ColumnType::Json);
        assert_eq!(ty(json!({"type": "array", "items": {"type": "string"}})).0, ColumnType::StringList);
        assert_eq!(ty(json!({"type": "array", "items": {"$ref": "#/components/schemas/address"}})).0, ColumnType::Json);
        assert_eq!(ty(json!({"anyOf": [{"type": "integer"}, {"type": "string"}]})).0, ColumnType::Json);
    }

    #[test]
    fn merging_conflicting_types_gives_json() {
        let a = vec![ColumnDef {
            name: "x".into(),
            ty: ColumnType::Utf8,
            source: vec![],
            expandable: false,
            enum_values: vec!["card".into()],
        }];
        let mut b = a.clone();
        b[0].enum_values = vec!["bank_account".into()];
        let merged = merge_columns(vec![a.clone(), b]);
        assert_eq!(merged[0].enum_values, vec!["card", "bank_account"]);
        let mut c = a.clone();
        c[0].ty = ColumnType::Int64;
        assert_eq!(merge_columns(vec![a.clone(), c])[0].ty, ColumnType::Json);
        let mut reference = a.clone();
        reference[0].expandable = true;
        let id = &merge_columns(vec![a, reference])[0];
        assert_eq!((id.ty, id.expandable), (ColumnType::Utf8, true), "a plain id and an expandable one are an id");
    }
}

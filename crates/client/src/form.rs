//! Stripe's bracket form encoding of nested parameters.
//!
//! `{"metadata": {"k": "v"}}` -> `metadata[k]=v`; `{"items": [{"price": "p"}]}` ->
//! `items[0][price]=p`; `{"expand": ["x"]}` -> `expand[]=x`; booleans as `true`/`false`;
//! numbers as written; `""` is sent as is (Stripe reads it as "unset this field"), and so are
//! an empty object or array (clearing `metadata` or a list). `null` values are skipped.
//! Keys keep the order of the input object, so the output is deterministic.

use serde_json::Value;

/// Encodes a JSON object as Stripe form pairs (unencoded; see [`to_urlencoded`]).
/// A value that is not an object encodes to no pairs.
pub fn encode(params: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Value::Object(map) = params {
        for (key, value) in map {
            encode_value(key.clone(), value, &mut out);
        }
    }
    out
}

fn encode_value(name: String, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push((name, b.to_string())),
        Value::Number(n) => out.push((name, n.to_string())),
        Value::String(s) => out.push((name, s.clone())),
        Value::Object(map) if map.is_empty() => out.push((name, String::new())),
        Value::Array(items) if items.is_empty() => out.push((name, String::new())),
        Value::Object(map) => {
            for (key, inner) in map {
                encode_value(format!("{name}[{key}]"), inner, out);
            }
        }
        Value::Array(items) => {
            // Scalars use `[]`; objects and nested arrays need indices so their fields
            // stay grouped per element.
            let indexed = items.iter().any(|v| v.is_object() || v.is_array());
            for (i, inner) in items.iter().enumerate() {
                let child = if indexed { format!("{name}[{i}]") } else { format!("{name}[]") };
                encode_value(child, inner, out);
            }
        }
    }
}

/// Percent-encodes pairs as `application/x-www-form-urlencoded` (also used for query strings).
pub fn to_urlencoded(pairs: &[(String, String)]) -> String {
    let mut ser = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// `k=v&k2=v2`, unencoded so tests and people can read it (the request log,
/// dry-run plans).
pub fn readable(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(v: Value) -> Vec<(String, String)> {
        encode(&v)
    }

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn scalars_booleans_integers_and_unset() {
        let got = pairs(json!({"email": "a@b.c", "amount": 2000, "livemode": false, "description": ""}));
        assert_eq!(got, vec![p("email", "a@b.c"), p("amount", "2000"), p("livemode", "false"), p("description", "")]);
    }

    #[test]
    fn nested_objects_and_arrays() {
        let got = pairs(json!({
            "metadata": {"k": "v", "order": "7"},
            "items": [{"price": "p1", "quantity": 2}, {"price": "p2"}],
            "expand": ["data.customer", "data.invoice"],
            "created": {"gte": 10, "lt": 20},
        }));
        assert_eq!(
            got,
            vec![
                p("metadata[k]", "v"),
                p("metadata[order]", "7"),
                p("items[0][price]", "p1"),
                p("items[0][quantity]", "2"),
                p("items[1][price]", "p2"),
                p("expand[]", "data.customer"),
                p("expand[]", "data.invoice"),
                p("created[gte]", "10"),
                p("created[lt]", "20"),
            ]
        );
    }

    #[test]
    fn empty_containers_unset_and_nulls_are_skipped() {
        let got = pairs(json!({"metadata": {}, "tax_ids": [], "name": null}));
        assert_eq!(got, vec![p("metadata", ""), p("tax_ids", "")]);
        assert!(encode(&json!("not an object")).is_empty());
    }

    #[test]
    fn order_is_the_input_order() {
        let a = pairs(json!({"z": 1, "a": 2, "m": 3}));
        assert_eq!(a, vec![p("z", "1"), p("a", "2"), p("m", "3")]);
    }

    #[test]
    fn urlencoding_escapes_brackets_and_reserved_characters() {
        let s = to_urlencoded(&[p("metadata[k]", "a b&c=d"), p("expand[]", "x")]);
        assert_eq!(s, "metadata%5Bk%5D=a+b%26c%3Dd&expand%5B%5D=x");
    }
}

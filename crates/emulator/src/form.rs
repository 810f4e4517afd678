//! Stripe's bracket form syntax (`a[b][0][c]=v`, `expand[]=x`) parsed into a JSON tree of
//! strings, for both query strings and `application/x-www-form-urlencoded` bodies.

use serde_json::{Map, Value};

/// Parses `k=v&...` (already split from the URL or read from the body) into an object.
/// Every leaf is a string; `a[]=x` appends to an array; objects whose keys are all
/// integers become arrays ordered by index.
pub fn parse(input: &str) -> Result<Map<String, Value>, String> {
    let mut root = Value::Object(Map::new());
    for pair in input.split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_val) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(raw_key)?;
        let val = decode(raw_val)?;
        let path = split_key(&key)?;
        insert(&mut root, &path, val)?;
    }
    let root = normalize(root);
    match root {
        Value::Object(m) => Ok(m),
        _ => Ok(Map::new()),
    }
}

fn decode(s: &str) -> Result<String, String> {
    let plus = s.replace('+', " ");
    percent_encoding::percent_decode_str(&plus)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| format!("invalid utf-8 in form field {s:?}"))
}

/// `a[b][]` -> ["a", "b", ""].
fn split_key(key: &str) -> Result<Vec<String>, String> {
    let (head, mut rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    if head.is_empty() {
        return Err(format!("invalid parameter name {key:?}"));
    }
    let mut parts = vec![head.to_string()];
    while !rest.is_empty() {
        if !rest.starts_with('[') {
            return Err(format!("invalid parameter name {key:?}"));
        }
        let end = rest.find(']').ok_or_else(|| format!("invalid parameter name {key:?}"))?;
        parts.push(rest[1..end].to_string());
        rest = &rest[end + 1..];
    }
    Ok(parts)
}

fn insert(node: &mut Value, path: &[String], val: String) -> Result<(), String> {
    let (first, rest) = path.split_first().expect("non-empty path");
    if first.is_empty() {
        // `a[]`: append to an array.
        if !node.is_array() {
            if node.as_object().is_some_and(|m| m.is_empty()) || node.is_null() {
                *node = Value::Array(vec![]);
            } else {
                return Err("cannot mix array and hash syntax for one parameter".into());
            }
        }
        let arr = node.as_array_mut().expect("array");
        if rest.is_empty() {
            arr.push(Value::String(val));
        } else {
            // `a[][b]=x`: start a new element when the last one already has `b`.
            let need_new = match arr.last() {
                Some(Value::Object(m)) => m.contains_key(&rest[0]) || rest[0].is_empty(),
                _ => true,
            };
            if need_new {
                arr.push(Value::Object(Map::new()));
            }
            insert(arr.last_mut().expect("element"), rest, val)?;
        }
        return Ok(());
    }
    let map = match node {
        Value::Object(m) => m,
        Value::Null => {
            *node = Value::Object(Map::new());
            node.as_object_mut().expect("object")
        }
        _ => return Err(format!("invalid nesting for parameter {first:?}")),
    };
    if rest.is_empty() {
        map.insert(first.clone(), Value::String(val));
        Ok(())
    } else {
        let child = map.entry(first.clone()).or_insert(Value::Null);
        if child.is_string() {
            return Err(format!("invalid nesting for parameter {first:?}"));
        }
        insert(child, rest, val)
    }
}

/// Objects keyed `0`, `1`, ... become arrays (Stripe's indexed array syntax).
fn normalize(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let indexed = !m.is_empty() && m.keys().all(|k| k.parse::<usize>().is_ok());
            if indexed {
                let mut items: Vec<(usize, Value)> =
                    m.into_iter().map(|(k, v)| (k.parse().unwrap_or(0), normalize(v))).collect();
                items.sort_by_key(|(i, _)| *i);
                Value::Array(items.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::Object(m.into_iter().map(|(k, v)| (k, normalize(v))).collect())
            }
        }
        Value::Array(a) => Value::Array(a.into_iter().map(normalize).collect()),
        Value::Null => Value::String(String::new()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_arrays_and_expand_parse() {
        let m = parse("a[b][0][c]=v&a[b][1][c]=w&expand[]=customer&expand[]=data.x&email=a%40b.c&q=x+y").unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"a": {"b": [{"c": "v"}, {"c": "w"}]}, "expand": ["customer", "data.x"],
                   "email": "a@b.c", "q": "x y"})
        );
    }

    #[test]
    fn empty_values_and_ranges() {
        let m = parse("metadata=&created[gte]=5&items[0][price]=p&items[0][quantity]=2").unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"metadata": "", "created": {"gte": "5"}, "items": [{"price": "p", "quantity": "2"}]})
        );
        assert!(parse("[x]=1").is_err());
        assert!(parse("a=1&a[b]=2").is_err());
    }
}

//! `expand[]`: replaces reference ids by the objects they name (`customer`,
//! `data.customer` on lists, nested paths like `latest_charge.balance_transaction`).

use super::errors::{ApiError, ApiResult};
use super::events::strip_hidden;
use super::resources::spec_for_id;
use super::store::State;
use serde_json::Value;

/// Renders an object for the wire: hidden fields removed, expansions applied.
pub fn render(state: &State, v: &Value, expand: &[String]) -> ApiResult<Value> {
    let mut out = strip_hidden(v);
    if let Some(Value::Array(items)) = out.get_mut("data") {
        for item in items.iter_mut() {
            *item = strip_hidden(item);
        }
    }
    for path in expand {
        let parts: Vec<&str> = path.split('.').collect();
        if parts.len() > 4 {
            return Err(ApiError::invalid_param(
                "expand",
                format!("You cannot expand more than 4 levels of a property ({path})."),
            ));
        }
        expand_path(state, &mut out, &parts, path, v)?;
    }
    Ok(out)
}

fn expand_path(state: &State, node: &mut Value, parts: &[&str], full: &str, original: &Value) -> ApiResult<()> {
    let Some((first, rest)) = parts.split_first() else {
        return Ok(());
    };
    if *first == "data"
        && let Some(Value::Array(items)) = node.get_mut("data")
    {
        for item in items.iter_mut() {
            expand_path(state, item, rest, full, original)?;
        }
        return Ok(());
    }
    let Some(obj) = node.as_object_mut() else {
        return Ok(());
    };
    if *first == "line_items"
        && let Some(lines) = original.get("_line_items")
    {
        obj.insert("line_items".into(), lines.clone());
        return Ok(());
    }
    let Some(field) = obj.get_mut(*first) else {
        return Err(ApiError::invalid_param("expand", format!("This property cannot be expanded ({full}).")));
    };
    if let Value::String(id) = field {
        let target = spec_for_id(id).and_then(|s| state.get(s.name, id));
        match target {
            Some(t) => *field = strip_hidden(t),
            None => return Ok(()),
        }
    } else if !field.is_object() && !field.is_null() {
        return Err(ApiError::invalid_param("expand", format!("This property cannot be expanded ({full}).")));
    }
    if !rest.is_empty() && field.is_object() {
        let inner = field.clone();
        expand_path(state, field, rest, full, &inner)?;
    }
    Ok(())
}

//! List-endpoint query parameters → `FilterDef`s.

use serde_json::Value;

use stripe_catalog::model::{FilterDef, FilterKind};

/// Query parameters that page or shape the response rather than filter rows.
const NOT_FILTERS: &[&str] = &["limit", "starting_after", "ending_before", "expand", "page"];

/// How a query parameter filters, or `None` when it does not filter rows in a
/// way SQL can express (pagination, free-form objects).
pub fn filter_kind(param: &Value) -> Option<FilterKind> {
    let name = param["name"].as_str()?;
    if NOT_FILTERS.contains(&name) {
        return None;
    }
    let schema = &param["schema"];
    if is_range(schema) {
        return Some(FilterKind::Range);
    }
    match schema["type"].as_str() {
        Some("boolean") => Some(FilterKind::Boolean),
        Some("array") => Some(FilterKind::Array),
        Some("string") => match schema["enum"].as_array() {
            Some(values) => {
                Some(FilterKind::Enum(values.iter().filter_map(Value::as_str).map(str::to_string).collect()))
            }
            None => Some(FilterKind::Equality),
        },
        Some("integer") => Some(FilterKind::Equality),
        // Object params (e.g. `recurring[interval]`) are not row equality; a
        // required one is still kept so the table can demand it.
        _ if param["required"] == true => Some(FilterKind::Equality),
        _ => None,
    }
}

/// `anyOf [ {gt,gte,lt,lte}, integer ]`: Stripe's range filter.
fn is_range(schema: &Value) -> bool {
    schema["anyOf"].as_array().is_some_and(|vs| {
        vs.iter().any(|v| v["properties"].get("gte").is_some() && v["properties"].get("lt").is_some())
    })
}

/// The filters of a list endpoint, linking each to the column of the same
/// name (or the override's column) when the table has it; sorted by param.
pub fn list_filters(
    params: &[&Value],
    has_column: impl Fn(&str) -> bool,
    column_override: impl Fn(&str) -> Option<String>,
) -> Vec<FilterDef> {
    let mut filters: Vec<FilterDef> = params
        .iter()
        .filter_map(|p| {
            let kind = filter_kind(p)?;
            let name = p["name"].as_str()?.to_string();
            let column = column_override(&name).or_else(|| has_column(&name).then(|| name.clone()));
            Some(FilterDef { param: name, column, kind })
        })
        .collect();
    filters.sort_by(|a, b| a.param.cmp(&b.param));
    filters
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_follow_the_schema() {
        let created = json!({"name": "created", "schema": {"anyOf": [{"properties": {"gt": {}, "gte": {}, "lt": {}, "lte": {}}, "type": "object"}, {"type": "integer"}]}});
        assert_eq!(filter_kind(&created), Some(FilterKind::Range));
        assert_eq!(filter_kind(&json!({"name": "active", "schema": {"type": "boolean"}})), Some(FilterKind::Boolean));
        assert_eq!(filter_kind(&json!({"name": "types", "schema": {"type": "array"}})), Some(FilterKind::Array));
        assert_eq!(filter_kind(&json!({"name": "customer", "schema": {"type": "string"}})), Some(FilterKind::Equality));
        assert_eq!(
            filter_kind(&json!({"name": "status", "schema": {"type": "string", "enum": ["open", "paid"]}})),
            Some(FilterKind::Enum(vec!["open".into(), "paid".into()]))
        );
        assert_eq!(filter_kind(&json!({"name": "limit", "schema": {"type": "integer"}})), None);
        assert_eq!(filter_kind(&json!({"name": "recurring", "schema": {"type": "object"}})), None);
    }

    #[test]
    fn filters_link_to_columns_when_present() {
        let p1 = json!({"name": "email", "schema": {"type": "string"}});
        let p2 = json!({"name": "types", "schema": {"type": "array"}});
        let fs = list_filters(&[&p2, &p1], |c| c == "email", |p| (p == "types").then(|| "type".to_string()));
        assert_eq!(fs[0].param, "email");
        assert_eq!(fs[0].column.as_deref(), Some("email"));
        assert_eq!(fs[1].column.as_deref(), Some("type"));
    }
}

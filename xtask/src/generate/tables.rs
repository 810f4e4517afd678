//! List endpoints → `TableDef`s: columns, parent, filters, search, writes, delete.

use serde_json::Value;

use super::columns::{column_for, merge_columns};
use super::filters::list_filters;
use super::naming::table_name;
use super::overrides::Overrides;
use super::params::body_params;
use super::spec::{Spec, is_param};
use stripe_catalog::model::*;

/// A GET endpoint returning `object: list`, with the schemas of its items.
pub struct ListEndpoint<'a> {
    /// `/v1/customers`.
    pub path: &'a str,
    /// Item schema names (several for polymorphic lists).
    pub item_schemas: Vec<String>,
}

/// Every list endpoint that is a table (aliases and previews in `skip_lists` left out).
pub fn list_endpoints<'a>(spec: &Spec<'a>, overrides: &Overrides) -> Vec<ListEndpoint<'a>> {
    spec.paths()
        .into_iter()
        .filter(|p| !overrides.skip_lists.iter().any(|s| s == p))
        .filter_map(|path| {
            let op = spec.operation(path, "get")?;
            let schema = spec.response_schema(&op)?;
            if schema["properties"]["object"]["enum"] != serde_json::json!(["list"]) {
                return None;
            }
            let item_schemas = spec.ref_names(&schema["properties"]["data"]["items"]);
            (!item_schemas.is_empty()).then_some(ListEndpoint { path, item_schemas })
        })
        .collect()
}

/// The path `{base}/{param}` when the spec has one (retrieve/update/delete of an item).
fn item_path<'a>(spec: &Spec<'a>, base: &str) -> Option<&'a str> {
    spec.paths().into_iter().find(|p| {
        p.strip_prefix(base)
            .and_then(|rest| rest.strip_prefix('/'))
            .is_some_and(|seg| !seg.contains('/') && is_param(seg))
    })
}

/// Builds one table from a list endpoint.
pub fn build_table(spec: &Spec<'_>, overrides: &Overrides, list: &ListEndpoint<'_>) -> Result<TableDef, String> {
    let name = overrides.table_names.get(list.path).cloned().unwrap_or_else(|| table_name(list.path));
    let get = spec.operation(list.path, "get").ok_or("list operation vanished")?;
    let query = spec.query_params(&get);

    let mut columns = merge_columns(
        list.item_schemas
            .iter()
            .map(|s| {
                let schema = spec.schema(s).map(|v| spec.resolve(v)).unwrap_or(&Value::Null);
                schema["properties"]
                    .as_object()
                    .map(|props| props.iter().map(|(n, p)| column_for(spec, n, p)).collect())
                    .unwrap_or_default()
            })
            .collect(),
    );
    if let Some(i) = columns.iter().position(|c| c.name == "id") {
        let id = columns.remove(i);
        columns.insert(0, id);
    }

    let parent = parent_of(overrides, list.path, &query);
    let mut extra_filters = Vec::new();
    if let Some(parent) = &parent {
        if !columns.iter().any(|c| c.name == parent.column) {
            let at = usize::from(columns.first().is_some_and(|c| c.name == "id"));
            columns.insert(at, plain_column(&parent.column, ColumnType::Utf8));
        }
        if list.path.contains(&format!("{{{}}}", parent.path_param)) {
            extra_filters.push(FilterDef {
                param: parent.path_param.clone(),
                column: Some(parent.column.clone()),
                kind: FilterKind::Equality,
            });
        }
    }
    for promoted in overrides.promoted_columns.get(&name).into_iter().flatten() {
        if columns.iter().any(|c| c.name == promoted.name) {
            return Err(format!("promoted column {}.{} clashes with a spec column", name, promoted.name));
        }
        let mut col = plain_column(&promoted.name, promoted.ty);
        col.source = promoted.source.clone();
        columns.push(col);
    }
    columns.push(plain_column("_raw", ColumnType::Json));

    let mut filters = list_filters(
        &query,
        |c| columns.iter().any(|col| col.name == c),
        |p| overrides.filter_columns.get(&format!("{name}.{p}")).cloned(),
    );
    filters.extend(extra_filters);
    filters.sort_by(|a, b| a.param.cmp(&b.param));

    let objects: Vec<String> = list.item_schemas.iter().map(|s| spec.object_type(s)).collect();
    let item = item_path(spec, list.path);
    let retrieve_path = item.filter(|p| spec.operation(p, "get").is_some()).map(|_| format!("{}/{{id}}", list.path));
    let create = spec.operation(list.path, "post").map(|op| WriteDef {
        path: list.path.to_string(),
        params: spec.body_schema(&op).map(|b| body_params(spec, b)).unwrap_or_default(),
    });
    let update = item.and_then(|p| spec.operation(p, "post")).map(|op| WriteDef {
        path: format!("{}/{{id}}", list.path),
        params: spec.body_schema(&op).map(|b| body_params(spec, b)).unwrap_or_default(),
    });
    let delete = item.and_then(|p| spec.operation(p, "delete")).map(|_| DeleteDef {
        method: "DELETE".to_string(),
        path: format!("{}/{{id}}", list.path),
        meaning: if overrides.delete_cancel.contains(&name) { DeleteMeaning::Cancel } else { DeleteMeaning::Delete },
    });
    let search = match overrides.search.get(&name) {
        Some(fields) => Some(search_def(spec, list.path, fields)?),
        None => None,
    };

    Ok(TableDef {
        id_prefix: overrides.id_prefixes.get(&objects[0]).cloned(),
        object: objects.join("|"),
        list_path: list.path.to_string(),
        retrieve_path,
        search,
        parent,
        columns,
        list_filters: filters,
        create,
        update,
        delete_hint: overrides.delete_hints.get(&name).cloned(),
        delete,
        paginated: query.iter().any(|q| q["name"] == "limit"),
        name,
    })
}

/// Nested tables take their parent from the path placeholder; top-level tables
/// with a required query parameter (`subscription_items?subscription=`) from that.
fn parent_of(overrides: &Overrides, path: &str, query: &[&Value]) -> Option<ParentDef> {
    if let Some(seg) = path.split('/').rfind(|s| is_param(s)) {
        let path_param = seg.trim_matches(|c| c == '{' || c == '}').to_string();
        let column = overrides.parent_columns.get(path).cloned().unwrap_or_else(|| path_param.clone());
        return Some(ParentDef { column, path_param });
    }
    let required = query.iter().find(|p| p["required"] == true)?;
    let name = required["name"].as_str()?.to_string();
    Some(ParentDef { column: name.clone(), path_param: name })
}

fn search_def(spec: &Spec<'_>, list_path: &str, fields: &[(String, String)]) -> Result<SearchDef, String> {
    let path = format!("{list_path}/search");
    if !spec.paths().contains(&path.as_str()) {
        return Err(format!("overrides give search fields for {list_path} but the spec has no {path}"));
    }
    let fields = fields
        .iter()
        .map(|(name, kind)| {
            let kind = serde_json::from_value(Value::String(kind.clone()))
                .map_err(|_| format!("unknown search field kind {kind} for {name}"))?;
            Ok(SearchField { name: name.clone(), kind })
        })
        .collect::<Result<_, String>>()?;
    Ok(SearchDef { path, fields })
}

fn plain_column(name: &str, ty: ColumnType) -> ColumnDef {
    ColumnDef { name: name.to_string(), ty, source: Vec::new(), expandable: false, enum_values: Vec::new() }
}

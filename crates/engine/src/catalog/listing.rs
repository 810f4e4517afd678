//! The catalog as Arrow batches, for `stripe_tables()` and the REPL's `\d`:
//! one row per table, or one row per column of a table.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::arrow_type;
use stripe_catalog::model::{Catalog, DeleteMeaning, FilterKind, SearchFieldKind, TableDef};

/// Schema of [`tables_batch`].
pub fn tables_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("table_name", DataType::Utf8, false),
        Field::new("object", DataType::Utf8, false),
        Field::new("list_path", DataType::Utf8, false),
        Field::new("retrieve", DataType::Boolean, false),
        Field::new("search", DataType::Boolean, false),
        Field::new("parent_filter", DataType::Utf8, true),
        Field::new("pushdown_filters", DataType::Utf8, false),
        Field::new("insert", DataType::Boolean, false),
        Field::new("update", DataType::Boolean, false),
        Field::new("delete", DataType::Utf8, true),
        Field::new("actions", DataType::Utf8, false),
    ]))
}

/// One row per table: name, object, list path, whether `id =` retrieves and
/// whether search is available, the required parent filter, the pushdown
/// filters as text (`created(range) customer(eq)`), write capabilities
/// (`delete` is `delete`, `cancel` or NULL) and the actions returning its rows.
pub fn tables_batch(catalog: &Catalog) -> RecordBatch {
    let t = &catalog.tables;
    let text =
        |f: &dyn Fn(&TableDef) -> String| -> ArrayRef { Arc::new(StringArray::from_iter_values(t.iter().map(f))) };
    let flag =
        |f: &dyn Fn(&TableDef) -> bool| -> ArrayRef { Arc::new(BooleanArray::from_iter(t.iter().map(|x| Some(f(x))))) };
    let columns: Vec<ArrayRef> = vec![
        text(&|x| x.name.clone()),
        text(&|x| x.object.clone()),
        text(&|x| x.list_path.clone()),
        flag(&|x| x.retrieve_path.is_some()),
        flag(&|x| x.search.is_some()),
        Arc::new(StringArray::from_iter(t.iter().map(|x| x.parent.as_ref().map(|p| p.column.clone())))),
        text(&|x| filters_text(x)),
        flag(&|x| x.create.is_some()),
        flag(&|x| x.update.is_some()),
        Arc::new(StringArray::from_iter(t.iter().map(|x| {
            x.delete.as_ref().map(|d| match d.meaning {
                DeleteMeaning::Delete => "delete".to_string(),
                DeleteMeaning::Cancel => "cancel".to_string(),
            })
        }))),
        text(&|x| catalog.actions_on(&x.name).map(|a| a.name.as_str()).collect::<Vec<_>>().join(" ")),
    ];
    RecordBatch::try_new(tables_schema(), columns).expect("listing columns match their schema")
}

/// `created(range) customer(eq) status(enum)`: a table's list filters as text.
pub fn filters_text(table: &TableDef) -> String {
    table
        .list_filters
        .iter()
        .map(|f| format!("{}({})", f.param, filter_kind_name(&f.kind)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Short name of a filter kind: `eq`, `enum`, `bool`, `range`, `in`.
pub fn filter_kind_name(kind: &FilterKind) -> &'static str {
    match kind {
        FilterKind::Equality => "eq",
        FilterKind::Enum(_) => "enum",
        FilterKind::Boolean => "bool",
        FilterKind::Range => "range",
        FilterKind::Array => "in",
    }
}

/// Schema of [`columns_batch`].
pub fn columns_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("column_name", DataType::Utf8, false),
        Field::new("data_type", DataType::Utf8, false),
        Field::new("arrow_type", DataType::Utf8, false),
        Field::new("filter", DataType::Utf8, true),
        Field::new("search", DataType::Utf8, true),
        Field::new("on_insert", DataType::Boolean, false),
        Field::new("on_update", DataType::Boolean, false),
    ]))
}

/// One row per column of `table`: name, SQL type, Arrow type, list-filter kind (with the
/// param when it differs from the column), search kind, and whether INSERT /
/// UPDATE accept it.
pub fn columns_batch(table: &TableDef) -> RecordBatch {
    let cols = &table.columns;
    let filter = cols.iter().map(|c| {
        let kinds: Vec<String> = table
            .filters_on(&c.name)
            .map(|f| match f.param == c.name {
                true => filter_kind_name(&f.kind).to_string(),
                false => format!("{}({})", filter_kind_name(&f.kind), f.param),
            })
            .collect();
        (!kinds.is_empty()).then(|| kinds.join(" "))
    });
    let search = cols.iter().map(|c| {
        let field = table.search.as_ref()?.fields.iter().find(|f| f.name == c.name)?;
        Some(search_kind_name(field.kind))
    });
    let writable = |w: &Option<super::model::WriteDef>, name: &str| {
        w.as_ref().is_some_and(|w| w.params.iter().any(|p| p.name == name))
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(cols.iter().map(|c| c.name.as_str()))),
        Arc::new(StringArray::from_iter_values(cols.iter().map(|c| super::sql_type(c.ty)))),
        Arc::new(StringArray::from_iter_values(cols.iter().map(|c| arrow_type(c.ty).to_string()))),
        Arc::new(StringArray::from_iter(filter)),
        Arc::new(StringArray::from_iter(search)),
        Arc::new(BooleanArray::from_iter(cols.iter().map(|c| Some(writable(&table.create, &c.name))))),
        Arc::new(BooleanArray::from_iter(cols.iter().map(|c| Some(writable(&table.update, &c.name))))),
    ];
    RecordBatch::try_new(columns_schema(), columns).expect("column listing matches its schema")
}

/// Lower-case name of a search field kind.
pub fn search_kind_name(kind: SearchFieldKind) -> &'static str {
    match kind {
        SearchFieldKind::String => "string",
        SearchFieldKind::Token => "token",
        SearchFieldKind::Numeric => "numeric",
        SearchFieldKind::Timestamp => "timestamp",
        SearchFieldKind::Metadata => "metadata",
    }
}

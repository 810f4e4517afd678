//! `DESCRIBE table` with the types analysts know: DataFusion's own answer
//! shows Arrow types (`Timestamp(s, "UTC")`); this one shows `column_name`,
//! `data_type` (the SQL name, e.g. `timestamptz`, `json` for the catalog's
//! JSON columns), `arrow_type` and `is_nullable`.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::dataframe::DataFrame;
use datafusion::error::Result;
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::LogicalPlan;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{DescribeAlias, ObjectName, Statement};

use super::sql_type::{sql_type, sql_type_of_arrow};
use stripe_catalog::model::TableDef;

/// Schema of [`describe_batch`].
pub fn describe_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("column_name", DataType::Utf8, false),
        Field::new("data_type", DataType::Utf8, false),
        Field::new("arrow_type", DataType::Utf8, false),
        Field::new("is_nullable", DataType::Utf8, false),
    ]))
}

/// One row per field of `schema`; the SQL type comes from `def` (the catalog
/// table) where it has the column, else from the Arrow type.
pub fn describe_batch(schema: &Schema, def: Option<&TableDef>) -> RecordBatch {
    let fields = schema.fields();
    let sql = fields.iter().map(|f| match def.and_then(|d| d.columns.iter().find(|c| c.name == *f.name())) {
        Some(column) => sql_type(column.ty).to_string(),
        None => sql_type_of_arrow(f.data_type()),
    });
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(fields.iter().map(|f| f.name().as_str()))),
        Arc::new(StringArray::from_iter_values(sql)),
        Arc::new(StringArray::from_iter_values(fields.iter().map(|f| f.data_type().to_string()))),
        Arc::new(StringArray::from_iter_values(fields.iter().map(|f| if f.is_nullable() { "YES" } else { "NO" }))),
    ];
    RecordBatch::try_new(describe_schema(), columns).expect("describe columns match their schema")
}

/// The catalog table `name` designates (`t`, `stripe.t` or `datafusion.stripe.t`).
pub fn builtin_def(name: &ObjectName) -> Option<&'static TableDef> {
    let parts: Vec<String> = name.0.iter().map(|p| p.to_string().trim_matches('"').to_string()).collect();
    let table = match parts.as_slice() {
        [t] => t,
        [s, t] if s.eq_ignore_ascii_case(crate::catalog::SCHEMA) => t,
        [c, s, t]
            if c.eq_ignore_ascii_case(crate::catalog::CATALOG) && s.eq_ignore_ascii_case(crate::catalog::SCHEMA) =>
        {
            t
        }
        _ => return None,
    };
    super::builtin().table(table)
}

/// The table a `DESCRIBE t` / `DESC t` statement names.
pub fn described(statement: &Statement) -> Option<&ObjectName> {
    match statement {
        Statement::ExplainTable {
            describe_alias: DescribeAlias::Describe | DescribeAlias::Desc, table_name, ..
        } => Some(table_name),
        _ => None,
    }
}

/// `plan` unchanged, unless it is DataFusion's `DESCRIBE` of a table (planned
/// from a statement naming `described`, see [`described`]): then a plan of the
/// same listing with SQL type names.
pub fn with_sql_types(ctx: &SessionContext, plan: LogicalPlan, described: Option<&ObjectName>) -> Result<LogicalPlan> {
    let (LogicalPlan::DescribeTable(describe), Some(name)) = (&plan, described) else { return Ok(plan) };
    let batch = describe_batch(&describe.schema, builtin_def(name));
    Ok(ctx.read_batch(batch)?.into_unoptimized_plan())
}

/// `ctx.sql(sql)`, with `DESCRIBE t` answered by [`describe_batch`].
pub async fn sql(ctx: &SessionContext, sql: &str) -> Result<DataFrame> {
    let frame = ctx.sql(sql).await?;
    if !matches!(frame.logical_plan(), LogicalPlan::DescribeTable(_)) {
        return Ok(frame);
    }
    let state = ctx.state();
    let dialect = state.config().options().sql_parser.dialect;
    let DFStatement::Statement(statement) = state.sql_to_statement(sql, &dialect)? else { return Ok(frame) };
    let plan = with_sql_types(ctx, frame.logical_plan().clone(), described(&statement))?;
    ctx.execute_logical_plan(plan).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::util::pretty::pretty_format_batches;

    #[tokio::test]
    async fn describe_shows_sql_types_and_keeps_the_arrow_type() {
        let ctx = SessionContext::new_with_state(crate::engine::session_state());
        let client = crate::stripe::Client::new(crate::stripe::ClientConfig::new(
            crate::stripe::ApiKey::parse("sk_test_describe").unwrap(),
        ))
        .unwrap();
        crate::engine::register(&ctx, &client).unwrap();
        for statement in ["DESCRIBE refunds", "DESC stripe.refunds"] {
            let batches = sql(&ctx, statement).await.unwrap().collect().await.unwrap();
            let text = pretty_format_batches(&batches).unwrap().to_string();
            let row = |name: &str| text.lines().find(|l| l.starts_with(&format!("| {name} "))).unwrap().to_string();
            let header: Vec<&str> = text.lines().nth(1).unwrap().split('|').map(str::trim).collect();
            assert_eq!(header, ["", "column_name", "data_type", "arrow_type", "is_nullable", ""]);
            assert!(row("metadata").contains("| map<text, text> "), "{text}");
            assert!(row("metadata").contains("Map(\"entries\""), "{text}");
            assert!(row("created").contains("| timestamptz ") && row("created").contains("Timestamp(s, \"UTC\")"));
            assert!(row("amount").contains("| bigint "), "{text}");
            assert!(row("id").contains("| text "), "{text}");
            assert!(row("_raw").contains("| json "), "{text}");
        }
        // Other tables: the names follow the Arrow types.
        let batches = sql(&ctx, "DESCRIBE information_schema.tables").await.unwrap().collect().await.unwrap();
        let text = pretty_format_batches(&batches).unwrap().to_string();
        assert!(text.lines().any(|l| l.starts_with("| table_name ") && l.contains("| text ")), "{text}");
    }
}

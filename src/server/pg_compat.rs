//! What Postgres clients expect to find besides the Stripe tables: the
//! `pg_catalog` emulation of `datafusion-pg-catalog` (installed by
//! [`crate::server::pg_catalog`]; psql `\dt`/`\d`,
//! pgJDBC metadata, SQLAlchemy `inspect()`), plus `current_schema()` naming
//! `stripe` (so tools list our tables as the default schema) and a
//! Postgres-style `version()` that drivers parse.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::cast::as_boolean_array;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};
use datafusion::prelude::SessionContext;

use crate::Result;
use stripe_sql::engine::{CATALOG, SCHEMA};

/// The version string `version()` answers; drivers read the number after `PostgreSQL`.
pub fn version_string() -> String {
    format!("PostgreSQL 16.6 (stripe-sql {} on Apache DataFusion 55)", env!("CARGO_PKG_VERSION"))
}

/// Installs `pg_catalog`, the Postgres compatibility functions and our
/// overrides into `ctx` (one that already holds the `stripe` schema).
pub fn register(ctx: &SessionContext) -> Result<()> {
    crate::server::pg_catalog::install(ctx, CATALOG, crate::server::pg_catalog::DATABASE)?;
    ctx.register_udf(constant_text("current_schema", SCHEMA.to_owned()));
    ctx.register_udf(constant_text("version", version_string()));
    ctx.register_udf(current_schemas());
    for name in ["pg_function_is_visible", "pg_type_is_visible", "pg_collation_is_visible", "pg_conversion_is_visible"]
    {
        ctx.register_udf(always_visible(name));
    }
    ctx.register_udf(to_regtype());
    crate::server::pg_extra::register_functions(ctx);
    Ok(())
}

/// A zero-argument function answering `value`.
fn constant_text(name: &str, value: String) -> ScalarUDF {
    let func = move |_args: &[ColumnarValue]| -> datafusion::error::Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(datafusion::scalar::ScalarValue::Utf8(Some(value.clone()))))
    };
    create_udf(name, vec![], DataType::Utf8, Volatility::Stable, Arc::new(func))
}

/// `current_schemas(include_implicit)`: `stripe`, then the implicit schemas when asked.
fn current_schemas() -> ScalarUDF {
    let func = |args: &[ColumnarValue]| -> datafusion::error::Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(args)?;
        let flags = as_boolean_array(&arrays[0])?;
        let mut builder = ListBuilder::new(StringBuilder::new());
        for i in 0..flags.len() {
            builder.values().append_value(SCHEMA);
            if flags.value(i) {
                builder.values().append_value("information_schema");
                builder.values().append_value("pg_catalog");
            }
            builder.append(true);
        }
        let array: ArrayRef = Arc::new(builder.finish());
        Ok(ColumnarValue::Array(array))
    };
    create_udf(
        "current_schemas",
        vec![DataType::Boolean],
        DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        Volatility::Stable,
        Arc::new(func),
    )
}

/// Answers psql's `\df [PATTERN]` query with the engine's functions and
/// actions (the emulated `pg_proc` only knows Postgres built-ins).
pub fn psql_functions(query: &str, functions: &[crate::repl::FunctionInfo]) -> Option<Vec<[String; 5]>> {
    if !(query.contains("pg_catalog.pg_get_function_result(p.oid)")
        && query.contains("pg_catalog.pg_function_is_visible(p.oid)"))
    {
        return None;
    }
    // `\df cap*` arrives as `p.proname OPERATOR(pg_catalog.~) '^(cap.*)$'`.
    let pattern = query
        .split("p.proname OPERATOR(pg_catalog.~) '^(")
        .nth(1)
        .and_then(|rest| rest.split(")$'").next())
        .map(|p| p.to_owned());
    let matches = |name: &str| match &pattern {
        None => true,
        Some(p) => {
            let parts: Vec<&str> = p.split(".*").collect();
            let mut at = 0;
            for (i, part) in parts.iter().enumerate() {
                match name[at..].find(part) {
                    Some(found) if i > 0 || found == 0 => at += found + part.len(),
                    _ => return false,
                }
            }
            parts.last().is_some_and(|l| l.is_empty()) || at == name.len()
        }
    };
    Some(
        functions
            .iter()
            .filter(|f| matches(&f.name))
            .map(|f| {
                [
                    SCHEMA.to_owned(),
                    f.name.clone(),
                    "SETOF record".to_owned(),
                    f.arguments.trim_start_matches('(').trim_end_matches(')').to_owned(),
                    "func".to_owned(),
                ]
            })
            .collect(),
    )
}

/// `pg_*_is_visible(oid)`: everything is on the search path.
fn always_visible(name: &str) -> ScalarUDF {
    let func = |args: &[ColumnarValue]| -> datafusion::error::Result<ColumnarValue> {
        let n = ColumnarValue::values_to_arrays(args)?[0].len();
        Ok(ColumnarValue::Array(Arc::new(datafusion::arrow::array::BooleanArray::from(vec![true; n]))))
    };
    create_udf(name, vec![DataType::Int32], DataType::Boolean, Volatility::Stable, Arc::new(func))
}

/// `to_regtype(name)`: the oid of a built-in type, NULL for others (drivers
/// probe optional types such as `hstore` this way).
fn to_regtype() -> ScalarUDF {
    let func = |args: &[ColumnarValue]| -> datafusion::error::Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(args)?;
        let names = datafusion::common::cast::as_string_array(&arrays[0])?;
        let oids: datafusion::arrow::array::Int32Array = names.iter().map(|n| n.and_then(builtin_type_oid)).collect();
        Ok(ColumnarValue::Array(Arc::new(oids)))
    };
    create_udf("to_regtype", vec![DataType::Utf8], DataType::Int32, Volatility::Stable, Arc::new(func))
}

/// Oids of the built-in types our columns and common casts use.
fn builtin_type_oid(name: &str) -> Option<i32> {
    let name = name.trim().trim_start_matches("pg_catalog.").to_lowercase();
    Some(match name.as_str() {
        "bool" | "boolean" => 16,
        "bytea" => 17,
        "int8" | "bigint" => 20,
        "int2" | "smallint" => 21,
        "int4" | "integer" | "int" => 23,
        "text" => 25,
        "oid" => 26,
        "json" => 114,
        "float4" | "real" => 700,
        "float8" | "double precision" => 701,
        "varchar" | "character varying" => 1043,
        "date" => 1082,
        "timestamp" | "timestamp without time zone" => 1114,
        "timestamptz" | "timestamp with time zone" => 1184,
        "numeric" => 1700,
        "uuid" => 2950,
        "jsonb" => 3802,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repl::FunctionInfo;

    fn f(name: &str) -> FunctionInfo {
        FunctionInfo { name: name.into(), arguments: "(id text)".into(), description: String::new() }
    }

    #[test]
    fn psql_df_query_lists_engine_functions_with_patterns() {
        let all = [f("capture_payment_intent"), f("stripe_get"), f("cancel_subscription")];
        let q =
            "SELECT ... pg_catalog.pg_get_function_result(p.oid) ... WHERE pg_catalog.pg_function_is_visible(p.oid)";
        assert_eq!(psql_functions(q, &all).unwrap().len(), 3);
        let q2 = format!("{q} AND p.proname OPERATOR(pg_catalog.~) '^(cap.*)$' COLLATE pg_catalog.default");
        let rows = psql_functions(&q2, &all).unwrap();
        assert_eq!(rows.iter().map(|r| r[1].as_str()).collect::<Vec<_>>(), ["capture_payment_intent"]);
        assert_eq!(rows[0][3], "id text");
        assert!(psql_functions("select 1", &all).is_none());
    }

    #[test]
    fn to_regtype_knows_builtins_only() {
        assert_eq!(builtin_type_oid("timestamptz"), Some(1184));
        assert_eq!(builtin_type_oid("pg_catalog.json"), Some(114));
        assert_eq!(builtin_type_oid("hstore"), None);
    }
}

//! What Postgres clients expect to find besides the Stripe tables: the
//! `pg_catalog` emulation of `datafusion-pg-catalog` (psql `\dt`/`\d`,
//! pgJDBC metadata, SQLAlchemy `inspect()`), plus `current_schema()` naming
//! `stripe` (so tools list our tables as the default schema) and a
//! Postgres-style `version()` that drivers parse.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::cast::as_boolean_array;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};
use datafusion::prelude::SessionContext;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::setup_pg_catalog;

use crate::engine::{CATALOG, SCHEMA};
use crate::{Error, Result};

/// The version string `version()` answers; drivers read the number after `PostgreSQL`.
pub fn version_string() -> String {
    format!("PostgreSQL 16.6 (stripe-sql {} on Apache DataFusion 55)", env!("CARGO_PKG_VERSION"))
}

/// Installs `pg_catalog`, the Postgres compatibility functions and our
/// overrides into `ctx` (one that already holds the `stripe` schema).
pub fn register(ctx: &SessionContext) -> Result<()> {
    setup_pg_catalog(ctx, CATALOG, EmptyContextProvider)
        .map_err(|e| Error::Config(format!("could not set up pg_catalog: {e}")))?;
    ctx.register_udf(constant_text("current_schema", SCHEMA.to_owned()));
    ctx.register_udf(constant_text("version", version_string()));
    ctx.register_udf(current_schemas());
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

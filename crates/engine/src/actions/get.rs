//! `stripe_get('/v1/…' [, '{"param": …}'])`: a read escape hatch returning
//! the JSON of any GET endpoint that has no table (`/v1/balance`,
//! `/v1/invoices/upcoming`, …) as one row `(object, json)`. Like every
//! provider here, the call happens when the plan executes, not at planning.

use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use serde_json::Value;

use super::scalar_json;
use crate::stripe;

/// The `stripe_get` table function.
#[derive(Debug)]
pub struct GetFunction {
    client: stripe::Client,
}

impl GetFunction {
    /// `stripe_get` through `client`.
    pub fn new(client: stripe::Client) -> Self {
        Self { client }
    }
}

impl TableFunctionImpl for GetFunction {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let values = args
            .exprs()
            .iter()
            .map(|e| match e {
                Expr::Literal(v, _) => scalar_json::to_json(v),
                other => Err(usage(&format!("{other} is not a constant"))),
            })
            .collect::<Result<Vec<_>>>()?;
        let (path, query) = match values.as_slice() {
            [Value::String(path)] => (path.clone(), Value::Object(Default::default())),
            [Value::String(path), Value::Object(q)] => (path.clone(), Value::Object(q.clone())),
            [Value::String(path), Value::String(q)] => {
                let q: Value = serde_json::from_str(q).map_err(|e| usage(&format!("the params are not JSON ({e})")))?;
                if !q.is_object() {
                    return Err(usage("the params must be a JSON object"));
                }
                (path.clone(), q)
            }
            _ => {
                return Err(usage("expected a path and optionally a JSON object of params"));
            }
        };
        check_path(&path)?;
        let partition = Arc::new(GetPartition { client: self.client.clone(), path, query, schema: schema() });
        Ok(Arc::new(StreamingTable::try_new(schema(), vec![partition])?))
    }
}

/// Columns of `stripe_get`: the object's type and the whole JSON.
fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("object", DataType::Utf8, true), Field::new("json", DataType::Utf8, false)]))
}

/// Only `/v1/` paths made of id characters and slashes reach the client.
fn check_path(path: &str) -> Result<()> {
    let ok = path.starts_with("/v1/")
        && path
            .split('/')
            .skip(1)
            .all(|seg| !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    if ok { Ok(()) } else { Err(usage(&format!("{path:?} is not an api path such as '/v1/balance'"))) }
}

fn usage(why: &str) -> DataFusionError {
    DataFusionError::Plan(format!(
        "stripe_get: {why}; write stripe_get('/v1/balance') or stripe_get('/v1/invoices/upcoming', '{{\"customer\": \"cus_…\"}}')"
    ))
}

#[derive(Debug)]
struct GetPartition {
    client: stripe::Client,
    path: String,
    query: Value,
    schema: SchemaRef,
}

impl PartitionStream for GetPartition {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let (client, path, query, schema) =
            (self.client.clone(), self.path.clone(), self.query.clone(), Arc::clone(&self.schema));
        let out = Arc::clone(&schema);
        let work = async move {
            let body = client
                .get(&path, &query)
                .await
                .map_err(|e| DataFusionError::Execution(format!("stripe_get('{path}') failed: {e}")))?;
            let object = body.get("object").and_then(Value::as_str).map(String::from);
            Ok(RecordBatch::try_new(
                out,
                vec![Arc::new(StringArray::from(vec![object])), Arc::new(StringArray::from(vec![body.to_string()]))],
            )?)
        };
        Box::pin(RecordBatchStreamAdapter::new(schema, futures::stream::once(work)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_checked() {
        assert!(check_path("/v1/balance").is_ok());
        assert!(check_path("/v1/invoices/upcoming").is_ok());
        assert!(check_path("/v2/x").is_err());
        assert!(check_path("/v1/../admin").is_err());
        assert!(check_path("/v1/balance?x=1").is_err());
        assert!(check_path("/v1//x").is_err());
    }
}

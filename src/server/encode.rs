//! Turns a DataFusion result into Postgres rows: JSON columns are typed `json`,
//! maps (`metadata`) become `json` objects, timestamps `timestamptz`, Int64
//! `int8`; errors get their SQLSTATE and a client cancel ends the stream
//! with 57014.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions as ArrowFormat};
use datafusion::common::DFSchema;
use datafusion::dataframe::DataFrame;
use datafusion_postgres::{arrow_pg, pgwire};
use futures::channel::oneshot;
use futures::{Stream, StreamExt};
use pgwire::api::Type;
use pgwire::api::portal::Format;
use pgwire::api::results::FieldInfo;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::data::DataRow;
use pgwire::types::format::FormatOptions;
use serde_json::{Map, Value};

use crate::server::errors;
use stripe_sql::catalog::{self, ColumnType};

/// The Postgres view of a result schema: the Arrow schema rows are encoded
/// from (maps turned into text) and which columns are `json`.
#[derive(Debug, Clone)]
pub struct WireSchema {
    arrow: SchemaRef,
    json: Vec<bool>,
}

impl WireSchema {
    /// Derives the wire schema of a plan's output; `json` columns are the
    /// Stripe table columns of type JSON or map.
    pub fn of(schema: &DFSchema) -> Self {
        let mut fields = Vec::with_capacity(schema.fields().len());
        let mut json = Vec::with_capacity(schema.fields().len());
        for (qualifier, field) in schema.iter() {
            let is_map = matches!(field.data_type(), DataType::Map(..));
            let is_json_column = qualifier
                .and_then(|q| catalog::builtin().table(q.table()))
                .and_then(|t| t.column(field.name()))
                .is_some_and(|c| matches!(c.ty, ColumnType::Json | ColumnType::StringMap));
            json.push(is_map || is_json_column);
            if is_map {
                fields.push(Arc::new(Field::new(field.name(), DataType::Utf8, true)));
            } else {
                fields.push(Arc::clone(field));
            }
        }
        Self { arrow: Arc::new(Schema::new(fields)), json }
    }

    /// The RowDescription fields in `format`.
    pub fn fields(&self, format: &Format, options: Option<Arc<FormatOptions>>) -> PgWireResult<Vec<FieldInfo>> {
        self.arrow
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let ty = if self.json[i] { Type::JSON } else { arrow_pg::datatypes::field_into_pg_type(f)? };
                let mut info = FieldInfo::new(f.name().clone(), None, None, ty, format.format_for(i));
                if let Some(o) = &options {
                    info = info.with_format_options(Arc::clone(o));
                }
                Ok(info)
            })
            .collect()
    }

    /// `batch` with map columns replaced by their JSON text.
    fn convert(&self, batch: RecordBatch) -> PgWireResult<RecordBatch> {
        if !batch.columns().iter().any(|c| matches!(c.data_type(), DataType::Map(..))) {
            return Ok(batch);
        }
        let columns = batch
            .columns()
            .iter()
            .map(|c| match c.data_type() {
                DataType::Map(..) => map_to_json(c),
                _ => Ok(Arc::clone(c)),
            })
            .collect::<PgWireResult<Vec<_>>>()?;
        RecordBatch::try_new(Arc::clone(&self.arrow), columns)
            .map_err(|e| errors::user_error(errors::INTERNAL, format!("could not encode the result: {e}")))
    }
}

/// Each map cell as a JSON object text (`{"k":"v"}`); null stays null.
fn map_to_json(array: &ArrayRef) -> PgWireResult<ArrayRef> {
    let map = array.as_map();
    let keys = map.keys();
    let values = map.values();
    let opts = ArrowFormat::default();
    let key_fmt = ArrayFormatter::try_new(keys.as_ref(), &opts).map_err(arrow_err)?;
    let value_fmt = ArrayFormatter::try_new(values.as_ref(), &opts).map_err(arrow_err)?;
    let offsets = map.value_offsets();
    let mut out = StringBuilder::new();
    for row in 0..map.len() {
        if map.is_null(row) {
            out.append_null();
            continue;
        }
        let mut object = Map::new();
        for i in offsets[row] as usize..offsets[row + 1] as usize {
            let value = if values.is_null(i) { Value::Null } else { Value::String(value_fmt.value(i).to_string()) };
            object.insert(key_fmt.value(i).to_string(), value);
        }
        out.append_value(Value::Object(object).to_string());
    }
    Ok(Arc::new(out.finish()))
}

fn arrow_err(e: datafusion::arrow::error::ArrowError) -> PgWireError {
    errors::user_error(errors::INTERNAL, format!("could not encode the result: {e}"))
}

/// Starts `df` and returns its RowDescription fields and its rows as a
/// stream (nothing is fetched until the stream is polled).
pub async fn encode(
    df: DataFrame,
    format: &Format,
    options: Option<Arc<FormatOptions>>,
) -> PgWireResult<(Arc<Vec<FieldInfo>>, impl Stream<Item = PgWireResult<DataRow>> + Send + 'static)> {
    let wire = WireSchema::of(df.schema());
    let fields = Arc::new(wire.fields(format, options)?);
    let batches = df.execute_stream().await.map_err(|e| errors::from_datafusion(&e))?;
    let fields_for_rows = Arc::clone(&fields);
    let rows = batches
        .map(move |batch| -> Vec<PgWireResult<DataRow>> {
            match batch.map_err(|e| errors::from_datafusion(&e)).and_then(|b| wire.convert(b)) {
                Ok(b) => arrow_pg::datatypes::encode_recordbatch(Arc::clone(&fields_for_rows), b).collect(),
                Err(e) => vec![Err(e)],
            }
        })
        .flat_map(futures::stream::iter);
    Ok((fields, rows))
}

/// `rows`, ended early with a 57014 error when `cancel` fires (dropping the
/// running scan, which stops its Stripe calls).
pub fn cancellable<S, T>(
    rows: S,
    cancel: Option<oneshot::Receiver<()>>,
) -> impl Stream<Item = PgWireResult<T>> + Send + 'static
where
    S: Stream<Item = PgWireResult<T>> + Send + 'static,
    T: Send + 'static,
{
    let state = (Box::pin(rows), cancel, false);
    futures::stream::unfold(state, |(mut rows, mut cancel, done)| async move {
        if done {
            return None;
        }
        let next = match cancel.as_mut() {
            Some(rx) => {
                tokio::select! {
                    biased;
                    fired = rx => match fired {
                        Ok(()) => Some(Err(errors::canceled())),
                        // The handle was replaced (a newer statement): keep going uncancellable.
                        Err(_) => {
                            cancel = None;
                            rows.next().await
                        }
                    },
                    row = rows.next() => row,
                }
            }
            None => rows.next().await,
        };
        match next {
            Some(Err(e)) => Some((Err(e), (rows, cancel, true))),
            Some(ok) => Some((ok, (rows, cancel, false))),
            None => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::StringArray;
    use stripe_sql::decode::Decoder;

    #[test]
    fn maps_and_json_columns_are_json_text() {
        let table = catalog::builtin().table("customers").expect("customers");
        let decoder = Decoder::new(table, None);
        let object = serde_json::json!({"id": "cus_1", "object": "customer", "email": "a@example.com",
            "metadata": {"plan": "pro"}, "address": {"country": "FR"}, "created": 1700000000});
        let batch = decoder.decode(&[object]).unwrap();
        let schema = DFSchema::try_from_qualified_schema("customers", &batch.schema()).unwrap();
        let wire = WireSchema::of(&schema);
        let fields = wire.fields(&Format::UnifiedText, None).unwrap();
        let ty = |name: &str| fields.iter().find(|f| f.name() == name).unwrap().datatype().clone();
        assert_eq!(ty("metadata"), Type::JSON);
        assert_eq!(ty("address"), Type::JSON);
        assert_eq!(ty("email"), Type::TEXT);
        assert_eq!(ty("created"), Type::TIMESTAMPTZ);
        let converted = wire.convert(batch).unwrap();
        let idx = converted.schema().index_of("metadata").unwrap();
        let text = converted.column(idx).as_any().downcast_ref::<StringArray>().unwrap().value(0).to_owned();
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), serde_json::json!({"plan": "pro"}));
    }
}

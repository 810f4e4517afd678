//! Executes a request plan: turns the planned API calls into a lazy stream of
//! RecordBatches. Pages are requested only as the consumer pulls, so a LIMIT or
//! a dropped query stops pagination, and the first batch arrives after the
//! first page.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::{DataFusionError, Result};
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use serde_json::{Map, Value};

use crate::catalog::TableDef;
use crate::provider::decode::Decoder;
use crate::provider::scan::ScanSpec;
use crate::pushdown::{ListRequest, RequestPlan};
use crate::stripe;

/// Everything but `[A-Za-z0-9_-]` is percent-encoded in a path segment (so `/`,
/// `.`, `%` and `?` can never form another path).
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'_').remove(b'-');

/// How many retrieves or list fan-outs run at once within one scan.
const FAN_OUT: usize = 8;

/// The scan's output: decoded, locally filtered, limited batches.
pub fn batches(def: Arc<TableDef>, client: stripe::Client, spec: ScanSpec) -> BoxStream<'static, Result<RecordBatch>> {
    let decoder = Decoder::new(&def, Some(spec.residual.decode_columns()));
    let residual = spec.residual.clone();
    let pages = object_pages(def, client, spec.plan.clone());
    let decoded = pages.map(move |page| {
        let objects = page?;
        residual.apply(decoder.decode(&objects)?)
    });
    limit_rows(decoded, spec.limit)
}

/// Stops the stream once `limit` rows went out (dropping the page stream, so
/// no further page is requested).
fn limit_rows(
    batches: BoxStream<'static, Result<RecordBatch>>,
    limit: Option<usize>,
) -> BoxStream<'static, Result<RecordBatch>> {
    let Some(limit) = limit else { return batches };
    stream::unfold((batches, limit), |(mut batches, remaining)| async move {
        if remaining == 0 {
            return None;
        }
        let next = batches.next().await?;
        Some(match next {
            Ok(batch) => {
                let take = batch.num_rows().min(remaining);
                (Ok(batch.slice(0, take)), (batches, remaining - take))
            }
            Err(e) => (Err(e), (batches, 0)),
        })
    })
    .boxed()
}

/// Pages of raw Stripe objects for `plan`.
pub fn object_pages(def: Arc<TableDef>, client: stripe::Client, plan: RequestPlan) -> BoxStream<'static, Result<Vec<Value>>> {
    match plan {
        RequestPlan::Empty | RequestPlan::MissingParent { .. } => stream::empty().boxed(),
        RequestPlan::Retrieve { ids } => retrieve_many(def, client, ids),
        RequestPlan::List { requests, max_rows } => cap_objects(list_many(client, requests), max_rows),
        RequestPlan::Search { path, query, page_size, max_rows } => {
            let mut params = Map::new();
            params.insert("query".into(), Value::String(query));
            params.insert("limit".into(), Value::String(page_size.to_string()));
            let pages = client.search(&path, Value::Object(params)).map(|p| p.map(|p| p.data).map_err(external));
            cap_objects(pages.boxed(), max_rows)
        }
    }
}

/// One GET per id, concurrently; a 404 is simply no row.
fn retrieve_many(def: Arc<TableDef>, client: stripe::Client, ids: Vec<String>) -> BoxStream<'static, Result<Vec<Value>>> {
    let Some(template) = def.retrieve_path.clone() else {
        let name = def.name.clone();
        return stream::once(async move {
            Err(DataFusionError::Plan(format!("table {name} has no retrieve endpoint, so it cannot be filtered by id alone")))
        })
        .boxed();
    };
    stream::iter(ids)
        .map(move |id| {
            let client = client.clone();
            let path = fill_path(&template, "id", &id);
            async move {
                match client.get(&path, &Value::Object(Map::new())).await {
                    Ok(object) => Ok(vec![object]),
                    Err(e) if e.is_not_found() => Ok(vec![]),
                    Err(e) => Err(external(e)),
                }
            }
        })
        .buffered(FAN_OUT)
        .try_filter(|objects| futures::future::ready(!objects.is_empty()))
        .boxed()
}

/// One list walk per request; several run concurrently and their results are
/// merged without duplicates (by object id).
fn list_many(client: stripe::Client, requests: Vec<ListRequest>) -> BoxStream<'static, Result<Vec<Value>>> {
    let single = requests.len() == 1;
    let walks = stream::iter(requests).map(move |request| {
        let params: Map<String, Value> =
            request.params.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
        client.list(&request.path, Value::Object(params)).map(|p| p.map(|p| p.data).map_err(external))
    });
    if single {
        return walks.flatten().boxed();
    }
    let mut seen: HashSet<String> = HashSet::new();
    walks
        .flatten_unordered(FAN_OUT)
        .map_ok(move |page| {
            page.into_iter()
                .filter(|o| match o.get("id").and_then(Value::as_str) {
                    Some(id) => seen.insert(id.to_string()),
                    None => true,
                })
                .collect::<Vec<_>>()
        })
        .boxed()
}

/// Ends the page stream after `max_rows` objects.
fn cap_objects(pages: BoxStream<'static, Result<Vec<Value>>>, max_rows: Option<usize>) -> BoxStream<'static, Result<Vec<Value>>> {
    let Some(max) = max_rows else { return pages };
    stream::unfold((pages, max), |(mut pages, remaining)| async move {
        if remaining == 0 {
            return None;
        }
        Some(match pages.next().await? {
            Ok(mut page) => {
                page.truncate(remaining);
                let left = remaining - page.len();
                (Ok(page), (pages, left))
            }
            Err(e) => (Err(e), (pages, 0)),
        })
    })
    .boxed()
}

/// Substitutes a validated id into a path template, percent-encoded so that no
/// value can change which endpoint is called.
pub fn fill_path(template: &str, placeholder: &str, value: &str) -> String {
    let encoded = percent_encoding::utf8_percent_encode(value, PATH_SEGMENT).to_string();
    template.replace(&format!("{{{placeholder}}}"), &encoded)
}

fn external(e: stripe::ApiError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

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
use crate::decode::Decoder;
use crate::provider::parallel;
use crate::provider::scan::ScanSpec;
use crate::pushdown::{self, ListRequest, RequestPlan};
use crate::stripe::{self, RawObjects};

/// How many retrieves or list fan-outs run at once within one scan.
const FAN_OUT: usize = 8;

/// The scan's output: decoded, locally filtered, limited batches.
pub fn batches(def: Arc<TableDef>, client: stripe::Client, spec: ScanSpec) -> BoxStream<'static, Result<RecordBatch>> {
    let decoder = Decoder::new(&def, Some(spec.residual.decode_columns()));
    let residual = spec.residual.clone();
    let pages = object_pages(client, spec.plan.clone(), spec.concurrency);
    let decoded = pages.map(move |page| {
        let page = page?;
        residual.apply(decoder.decode_raw(&page.objects, &page.implied)?)
    });
    limit_rows(decoded.boxed(), spec.limit)
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

/// Stripe objects of one response as text, with the column values the
/// request's filters imply (nested tables' objects often do not carry their
/// parent id).
#[derive(Debug, Default)]
pub struct ObjectPage {
    /// The objects, newest first as Stripe returns them.
    pub objects: RawObjects,
    /// `(column, value)` pairs every object of the request has by construction.
    pub implied: Arc<Vec<(String, String)>>,
}

impl ObjectPage {
    fn plain(objects: RawObjects) -> Self {
        Self { objects, implied: Arc::default() }
    }
}

/// Pages of raw Stripe objects for `plan`; a single list walk is split into
/// `created` ranges fetched `concurrency` at a time when `concurrency > 1`
/// (the caller decides it is safe: see `ScanSpec::concurrency`).
pub fn object_pages(
    client: stripe::Client,
    plan: RequestPlan,
    concurrency: usize,
) -> BoxStream<'static, Result<ObjectPage>> {
    match plan {
        RequestPlan::Empty | RequestPlan::MissingParent { .. } => stream::empty().boxed(),
        RequestPlan::Retrieve { path, ids } => retrieve_many(client, path, ids),
        RequestPlan::List { mut requests, max_rows: None } if requests.len() == 1 && concurrency > 1 => {
            let request = requests.remove(0);
            let implied = Arc::new(request.implied.clone());
            parallel::pages(client, request, concurrency)
                .map(move |p| {
                    p.map(|p| ObjectPage { objects: p.objects, implied: Arc::clone(&implied) }).map_err(external)
                })
                .boxed()
        }
        RequestPlan::List { requests, max_rows } => cap_objects(list_many(client, requests), max_rows),
        RequestPlan::Search { path, query, page_size, max_rows } => {
            let mut params = Map::new();
            params.insert("query".into(), Value::String(query));
            params.insert("limit".into(), Value::String(page_size.to_string()));
            let pages = client
                .search_raw(&path, Value::Object(params))
                .map(|p| p.map(|p| ObjectPage::plain(p.objects)).map_err(external));
            cap_objects(pages.boxed(), max_rows)
        }
    }
}

/// One GET per id, concurrently; a 404 is simply no row.
/// Deleted objects (`{"deleted": true}`) are no row either.
fn retrieve_many(client: stripe::Client, template: String, ids: Vec<String>) -> BoxStream<'static, Result<ObjectPage>> {
    stream::iter(ids)
        .map(move |id| {
            let client = client.clone();
            let path = pushdown::retrieve_path(&template, &id);
            async move {
                match client.get_raw(&path, &Value::Object(Map::new())).await {
                    Ok(object) if object.head(0).deleted() => Ok(ObjectPage::default()),
                    Ok(object) => Ok(ObjectPage::plain(object)),
                    Err(e) if e.is_not_found() => Ok(ObjectPage::default()),
                    Err(e) => Err(external(e)),
                }
            }
        })
        .buffered(FAN_OUT)
        .try_filter(|page| futures::future::ready(!page.objects.is_empty()))
        .boxed()
}

/// One list walk per request; several run concurrently and their results are
/// merged without duplicates (by object id).
fn list_many(client: stripe::Client, requests: Vec<ListRequest>) -> BoxStream<'static, Result<ObjectPage>> {
    let single = requests.len() == 1;
    let walks = stream::iter(requests).map(move |request| {
        let implied = Arc::new(request.implied.clone());
        // A 404 on a list whose filters name an object (the parent id in a nested
        // table's path, e.g. an invoice that does not exist) means that object has
        // no children: no rows, like a 404 on a retrieve, rather than an error.
        let names_an_object = !request.implied.is_empty();
        client
            .list_raw(&request.path, request.query_value())
            .take_while(move |p| futures::future::ready(!(names_an_object && matches!(p, Err(e) if e.is_not_found()))))
            .map(move |p| p.map(|p| ObjectPage { objects: p.objects, implied: Arc::clone(&implied) }).map_err(external))
    });
    if single {
        return walks.flatten().boxed();
    }
    let mut seen: HashSet<String> = HashSet::new();
    walks
        .flatten_unordered(FAN_OUT)
        .map_ok(move |mut page| {
            page.objects.retain(|o| match stripe::raw::Head::of(o).id() {
                Some(id) => seen.insert(id.to_string()),
                None => true,
            });
            page
        })
        .boxed()
}

/// Ends the page stream after `max_rows` objects.
fn cap_objects(
    pages: BoxStream<'static, Result<ObjectPage>>,
    max_rows: Option<usize>,
) -> BoxStream<'static, Result<ObjectPage>> {
    let Some(max) = max_rows else { return pages };
    stream::unfold((pages, max), |(mut pages, remaining)| async move {
        if remaining == 0 {
            return None;
        }
        Some(match pages.next().await? {
            Ok(mut page) => {
                page.objects.truncate(remaining);
                let left = remaining - page.objects.len();
                (Ok(page), (pages, left))
            }
            Err(e) => (Err(e), (pages, 0)),
        })
    })
    .boxed()
}

fn external(e: stripe::ApiError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

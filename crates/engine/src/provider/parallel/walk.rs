//! Runs a split list scan: up to `concurrency` pages in flight, each a page of
//! one [`Segment`]; after each page, [`split::rest`] decides what is left.
//!
//! The first request is exactly the sequential walk's first request, so a
//! result that fits one page costs one call. Objects created while the scan
//! runs are consistently excluded: they are newer than the first page's
//! objects, and every later request either carries `created[lte]` at most the
//! first page's oldest second plus a cursor inside it, or an older range.
//! Pages are fetched only as the consumer pulls (at most `concurrency` ahead),
//! so memory stays bounded and dropping the stream stops the scan.
//! [`pages_from`] also yields, with each page, the segments still to fetch:
//! with the pages already yielded they hold every object exactly once, so a
//! consumer can commit its rows with them and later resume from them.
//! Before the first split, the account's creation time (`GET /v1/account`,
//! once per client; 2010-01-01 when unknown) becomes the planner's floor. A
//! query's scan asks for it when the first page shows there is more, and takes
//! the next page by cursor meanwhile, so it costs no round trip of its own; a
//! backfill asks for it together with its first page ([`FloorAt`]).

use std::collections::{BTreeMap, VecDeque};

use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, FuturesUnordered, StreamExt};
use serde_json::{Map, Value};

use super::split::{self, PageFacts, STRIPE_EPOCH, Segment, SplitPolicy};
use crate::pushdown::ListRequest;
use crate::stripe::{self, ApiError, RawPage};

/// The `created` bounds a request already carries (from the user's filters).
pub fn user_bounds(params: &[(String, String)]) -> (i64, i64) {
    let (mut lo, mut hi) = (i64::MIN, i64::MAX);
    for (key, value) in params {
        let Ok(v) = value.parse::<i64>() else { continue };
        match key.as_str() {
            "created[gte]" => lo = lo.max(v),
            "created[gt]" => lo = lo.max(v.saturating_add(1)),
            "created[lte]" => hi = hi.min(v),
            "created[lt]" => hi = hi.min(v.saturating_sub(1)),
            _ => {}
        }
    }
    (lo, hi)
}

/// The query of one segment: the request's params with its `created` bounds
/// replaced by the segment's, plus the cursor.
pub fn segment_query(request: &ListRequest, segment: &Segment) -> Value {
    let mut query = request.query_value();
    let Value::Object(map) = &mut query else { return query };
    let mut created = Map::new();
    if segment.lo != i64::MIN {
        created.insert("gte".into(), Value::String(segment.lo.to_string()));
    }
    if segment.hi != i64::MAX {
        created.insert("lte".into(), Value::String(segment.hi.to_string()));
    }
    map.remove("created");
    if !created.is_empty() {
        map.insert("created".into(), Value::Object(created));
    }
    if let Some(after) = &segment.after {
        map.insert("starting_after".into(), Value::String(after.clone()));
    }
    query
}

/// What a page says for splitting; `None` when its objects carry no `created`.
fn facts(page: &RawPage) -> Option<PageFacts> {
    let count = page.objects.len();
    let (first, last) = (page.objects.head(0), page.objects.head(count.checked_sub(1)?));
    Some(PageFacts {
        count,
        newest: first.created()?,
        oldest: last.created()?,
        last_id: last.id()?.to_string(),
        has_more: page.has_more,
    })
}

/// A spawned task that is aborted when its handle is dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> std::future::Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        std::pin::Pin::new(&mut self.0).poll(cx)
    }
}

/// `work` on the runtime's worker threads when there is one (aborted when
/// the returned future is dropped), else inline; `stopped` answers for a task
/// that ended without a result.
fn spawned<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
    stopped: impl FnOnce(tokio::task::JoinError) -> T + Send + 'static,
) -> BoxFuture<'static, T> {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            let task = AbortOnDrop(handle.spawn(work));
            Box::pin(async move { task.await.unwrap_or_else(stopped) })
        }
        Err(_) => Box::pin(work),
    }
}

type Fetch = BoxFuture<'static, (u64, Segment, bool, Result<RawPage, ApiError>)>;

struct Walk {
    client: stripe::Client,
    request: ListRequest,
    concurrency: usize,
    policy: SplitPolicy,
    queue: VecDeque<Queued>,
    /// Queued or in-flight segments expected to end with their next page.
    ending: usize,
    in_flight: FuturesUnordered<Fetch>,
    /// The segments of the pages in flight, by fetch number, with the pages
    /// each is expected to hold.
    flying: BTreeMap<u64, (Segment, f64)>,
    /// Fetches started so far (numbers them).
    started: u64,
    failed: bool,
    /// Where the account's creation time (the planner's floor) stands.
    floor: Floor,
}

/// A segment waiting for a worker.
struct Queued {
    segment: Segment,
    /// The scan's first request (sent exactly as the sequential walk's).
    first: bool,
    /// Expected to end with this page ([`split::ends_with_next_page`]).
    ending: bool,
    /// Pages it is expected to hold ([`split::expected_pages`]; unknown: infinite).
    pages: f64,
}

impl Queued {
    fn next(segment: Segment) -> Self {
        Queued { segment, first: false, ending: false, pages: f64::INFINITY }
    }
}

/// The planner's floor: not asked yet, being fetched, or in `policy.floor`.
enum Floor {
    Unasked,
    Asked(BoxFuture<'static, Option<i64>>),
    Known,
}

impl Walk {
    fn new(client: stripe::Client, request: ListRequest, concurrency: usize, start: Start) -> Walk {
        let page_size =
            request.params.iter().find(|(k, _)| k == "limit").and_then(|(_, v)| v.parse().ok()).unwrap_or(10);
        let policy = SplitPolicy { page_size, ..SplitPolicy::default() };
        let floor = match start.floor {
            FloorAt::FirstPage => Floor::Asked(ask_floor(&client)),
            FloorAt::FirstSplit => Floor::Unasked,
        };
        let mut walk = Walk {
            client,
            request,
            concurrency: concurrency.max(1),
            policy,
            queue: VecDeque::new(),
            ending: 0,
            in_flight: FuturesUnordered::new(),
            flying: BTreeMap::new(),
            started: 0,
            failed: false,
            floor,
        };
        let first = start.first;
        walk.queue.extend(start.segments.into_iter().map(|segment| Queued { first, ..Queued::next(segment) }));
        walk
    }

    /// The segments not fetched yet: queued, or with a page in flight.
    fn frontier(&self) -> Vec<Segment> {
        self.flying.values().map(|(s, _)| s).chain(self.queue.iter().map(|q| &q.segment)).cloned().collect()
    }

    fn start(&mut self, queued: Queued) {
        let Queued { segment, first, ending, pages } = queued;
        let number = self.started;
        self.started += 1;
        self.flying.insert(number, (segment.clone(), pages));
        let client = self.client.clone();
        let path = self.request.path.clone();
        let query = if first { self.request.query_value() } else { segment_query(&self.request, &segment) };
        let fetch = async move { client.get_page(&path, &query).await };
        // On the runtime's worker threads when there is one, so responses are
        // received and parsed in parallel while the consumer decodes a page;
        // aborted if the scan is dropped.
        let page = spawned(fetch, |e| {
            Err(ApiError::InvalidRequest(format!("a page fetch of the parallel scan stopped: {e}")))
        });
        self.in_flight.push(Box::pin(async move { (number, segment, ending, page.await) }));
    }

    /// How many workers may take ranges after a page with more to come. The
    /// first time, asks for the floor and answers 1 (continue by cursor while
    /// it is fetched); the next time, waits for what remains of that call.
    async fn workers_for_split(&mut self, free: usize) -> usize {
        if free <= 1 {
            return free;
        }
        match std::mem::replace(&mut self.floor, Floor::Known) {
            Floor::Known => free,
            Floor::Unasked => {
                self.floor = Floor::Asked(ask_floor(&self.client));
                1
            }
            Floor::Asked(created) => {
                let created = created.await;
                self.policy.floor = self.policy.floor.max(created.unwrap_or(STRIPE_EPOCH)).max(0);
                free
            }
        }
    }

    /// Whether the scan is ending: past its first page, no other segment is
    /// expected to hold enough to be split, so free workers would stay idle.
    fn ending_scan(&self) -> bool {
        self.started > 1
            && !self.flying.values().map(|(_, p)| *p).chain(self.queue.iter().map(|q| q.pages)).any(split::splittable)
    }

    async fn next_page(&mut self) -> Option<Result<RawPage, ApiError>> {
        if self.failed {
            return None;
        }
        while self.in_flight.len() < self.concurrency {
            let Some(queued) = self.queue.pop_front() else { break };
            self.start(queued);
        }
        let (number, segment, ending, page) = self.in_flight.next().await?;
        self.flying.remove(&number);
        self.ending -= usize::from(ending);
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                self.failed = true;
                return Some(Err(e));
            }
        };
        if page.has_more {
            match facts(&page) {
                Some(facts) => {
                    let busy = (self.in_flight.len() + self.queue.len()).saturating_sub(self.ending);
                    // The floor is asked only when a range may be split (a scan of
                    // one page costs one call), and once per client.
                    let free = self.workers_for_split(self.concurrency.saturating_sub(busy)).await;
                    let policy = SplitPolicy { ending: self.ending_scan(), ..self.policy };
                    for (n, next) in split::rest(&segment, &facts, free, policy).into_iter().enumerate() {
                        // Only the continuation (the first) is sized by this page's density.
                        let ending = n == 0 && split::ends_with_next_page(&next, &facts, policy);
                        self.ending += usize::from(ending);
                        let pages = split::expected_pages(&next, &facts, policy);
                        self.queue.push_back(Queued { ending, pages, ..Queued::next(next) });
                    }
                }
                // Objects without a `created` time: keep walking this segment by cursor.
                None => match page
                    .objects
                    .len()
                    .checked_sub(1)
                    .and_then(|last| page.objects.head(last).id().map(str::to_owned))
                {
                    Some(id) => self.queue.push_back(Queued::next(Segment { after: Some(id), ..segment })),
                    None => {
                        self.failed = true;
                        return Some(Err(ApiError::Pagination {
                            path: self.request.path.clone(),
                            message: "a page with has_more=true has no object id to continue from".into(),
                        }));
                    }
                },
            }
        }
        Some(Ok(page))
    }
}

/// Asks for the account's creation time on the runtime when there is one.
/// Detached, not aborted with the scan: the client keeps the answer for every
/// later scan.
fn ask_floor(client: &stripe::Client) -> BoxFuture<'static, Option<i64>> {
    let client = client.clone();
    let ask = async move { client.account_created().await };
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => {
            let task = handle.spawn(ask);
            Box::pin(async move { task.await.ok().flatten() })
        }
        Err(_) => Box::pin(ask),
    }
}

/// Whether the request's `created` params are all bracketed integer bounds
/// (anything else could not be narrowed safely: the walk stays sequential).
fn bounds_are_readable(params: &[(String, String)]) -> bool {
    params.iter().filter(|(k, _)| k == "created" || k.starts_with("created[")).all(|(k, v)| {
        matches!(k.as_str(), "created[gt]" | "created[gte]" | "created[lt]" | "created[lte]")
            && v.parse::<i64>().is_ok()
    })
}

/// Every page of `request`, fetched as disjoint `created` ranges with up to
/// `concurrency` requests in flight (the client's limiter still applies).
pub fn pages(
    client: stripe::Client,
    request: ListRequest,
    concurrency: usize,
) -> BoxStream<'static, Result<RawPage, ApiError>> {
    if !bounds_are_readable(&request.params) {
        return client.list_raw(&request.path, request.query_value());
    }
    let (lo, hi) = user_bounds(&request.params);
    let start = Start { segments: vec![Segment::range(lo, hi)], first: true, floor: FloorAt::FirstSplit };
    let walk = Walk::new(client, request, concurrency, start);
    stream::unfold(walk, |mut walk| async move {
        let page = walk.next_page().await?;
        Some((page, walk))
    })
    .boxed()
}

/// Where a [`pages_from`] scan starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Start {
    /// Disjoint segments still to list.
    pub segments: Vec<Segment>,
    /// The segments are the scan's start (one whole range), sent as the
    /// sequential walk's first request.
    pub first: bool,
    /// Where the planner's floor comes from.
    pub floor: FloorAt,
}

/// When a scan learns the account's creation time, below which it plans no range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloorAt {
    /// Asked together with the first page, so the scan splits right after it
    /// (for scans that are expected to be long: one more call).
    FirstPage,
    /// Asked when the first page shows there is more (a scan of one page costs
    /// one call; the first split waits a page).
    FirstSplit,
}

/// The pages of `request` from `start`, each with the segments still to
/// fetch once it is received: the pages yielded so far and those segments
/// hold every object exactly once.
pub fn pages_from(
    client: stripe::Client,
    request: ListRequest,
    concurrency: usize,
    start: Start,
) -> BoxStream<'static, Result<(RawPage, Vec<Segment>), ApiError>> {
    let walk = Walk::new(client, request, concurrency, start);
    stream::unfold(walk, |mut walk| async move {
        let page = walk.next_page().await?;
        let rest = walk.frontier();
        Some((page.map(|p| (p, rest)), walk))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(params: &[(&str, &str)]) -> ListRequest {
        ListRequest {
            path: "/v1/charges".into(),
            params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            implied: vec![],
        }
    }

    #[test]
    fn only_integer_bracket_bounds_are_split() {
        assert!(bounds_are_readable(&request(&[("created[gte]", "10"), ("limit", "100")]).params));
        assert!(!bounds_are_readable(&request(&[("created", "10")]).params));
        assert!(!bounds_are_readable(&request(&[("created[gte]", "yesterday")]).params));
    }

    #[test]
    fn user_bounds_become_inclusive_seconds() {
        assert_eq!(user_bounds(&request(&[("limit", "100")]).params), (i64::MIN, i64::MAX));
        let r = request(&[("created[gt]", "10"), ("created[lt]", "20"), ("limit", "100")]);
        assert_eq!(user_bounds(&r.params), (11, 19));
        let r = request(&[("created[gte]", "10"), ("created[lte]", "20")]);
        assert_eq!(user_bounds(&r.params), (10, 20));
    }

    #[test]
    fn segment_queries_replace_the_created_bounds_and_add_the_cursor() {
        let r = request(&[("created[gt]", "10"), ("customer", "cus_1"), ("limit", "100")]);
        let q = segment_query(&r, &Segment { lo: 11, hi: 15, after: Some("ch_9".into()) });
        assert_eq!(
            q,
            serde_json::json!({"created": {"gte": "11", "lte": "15"}, "customer": "cus_1", "limit": "100", "starting_after": "ch_9"})
        );
        let q = segment_query(&r, &Segment::range(i64::MIN, 15));
        assert_eq!(q, serde_json::json!({"created": {"lte": "15"}, "customer": "cus_1", "limit": "100"}));
    }
}

use super::*;

/// A fake list endpoint: objects `(created, id)` sorted newest first (ties by
/// id descending, like a stable sequence), one page of `segment`.
fn page_of(objects: &[(i64, String)], segment: &Segment, size: usize) -> (Vec<(i64, String)>, bool) {
    let mut matching = objects.iter().filter(|(c, _)| *c >= segment.lo && *c <= segment.hi);
    let rest: Vec<&(i64, String)> = match &segment.after {
        None => matching.collect(),
        Some(after) => {
            let mut found = false;
            let mut out = Vec::new();
            for o in matching.by_ref() {
                if found {
                    out.push(o);
                } else if &o.1 == after {
                    found = true;
                }
            }
            assert!(found, "the cursor {after} must be inside its own segment");
            out
        }
    };
    let page: Vec<(i64, String)> = rest.iter().take(size).map(|o| (*o).clone()).collect();
    (page, rest.len() > size)
}

fn facts(page: &[(i64, String)], has_more: bool) -> PageFacts {
    PageFacts {
        count: page.len(),
        newest: page.first().map_or(0, |o| o.0),
        oldest: page.last().map_or(0, |o| o.0),
        last_id: page.last().map_or(String::new(), |o| o.1.clone()),
        has_more,
    }
}

/// Runs a whole scan with a work queue, `workers` at once, taking pages in a
/// pseudo-random order; returns every id fetched and the number of requests.
fn scan(objects: &[(i64, String)], workers: usize, seed: u64, policy: SplitPolicy) -> (Vec<String>, usize) {
    let mut queue = vec![Segment::range(i64::MIN, i64::MAX)];
    let mut in_flight: Vec<Segment> = Vec::new();
    let mut seen = Vec::new();
    let mut requests = 0;
    let mut rng = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    loop {
        while in_flight.len() < workers && !queue.is_empty() {
            in_flight.push(queue.remove(0));
        }
        if in_flight.is_empty() {
            break;
        }
        rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let seg = in_flight.swap_remove((rng >> 33) as usize % in_flight.len());
        let (page, has_more) = page_of(objects, &seg, policy.page_size);
        requests += 1;
        seen.extend(page.iter().map(|o| o.1.clone()));
        let free = workers.saturating_sub(in_flight.len() + queue.len());
        queue.extend(rest(&seg, &facts(&page, has_more), free, policy));
    }
    (seen, requests)
}

fn objects(n: usize, spread: i64, seed: u64) -> Vec<(i64, String)> {
    let mut rng = seed | 1;
    let mut out: Vec<(i64, String)> = (0..n)
        .map(|i| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (1_700_000_000 + (rng % spread.max(1) as u64) as i64, format!("ch_{i:06}"))
        })
        .collect();
    out.sort_by(|a, b| b.cmp(a));
    out
}

fn assert_exactly_once(objects: &[(i64, String)], seen: &[String]) {
    let mut expected: Vec<&String> = objects.iter().map(|o| &o.1).collect();
    let mut got: Vec<&String> = seen.iter().collect();
    expected.sort();
    got.sort();
    assert_eq!(got.len(), expected.len(), "every object exactly once (duplicates or misses)");
    assert_eq!(got, expected);
}

#[test]
fn a_last_page_ends_the_segment() {
    let seg = Segment::range(0, 100);
    let page = PageFacts { count: 3, newest: 90, oldest: 10, last_id: "c".into(), has_more: false };
    assert!(rest(&seg, &page, 8, SplitPolicy::default()).is_empty());
}

#[test]
fn one_free_worker_keeps_walking_by_cursor() {
    let seg = Segment::range(0, 1000);
    let page = PageFacts { count: 100, newest: 1000, oldest: 900, last_id: "x".into(), has_more: true };
    assert_eq!(rest(&seg, &page, 1, SplitPolicy::default()), vec![Segment { lo: 0, hi: 900, after: Some("x".into()) }]);
}

#[test]
fn a_single_second_is_never_split() {
    let seg = Segment { lo: 500, hi: 500, after: None };
    let page = PageFacts { count: 100, newest: 500, oldest: 500, last_id: "x".into(), has_more: true };
    assert_eq!(
        rest(&seg, &page, 8, SplitPolicy::default()),
        vec![Segment { lo: 500, hi: 500, after: Some("x".into()) }]
    );
}

#[test]
fn free_workers_get_contiguous_disjoint_older_ranges() {
    // 100 objects per 100 s: 1 object/s; 10,000 s left below the page.
    let seg = Segment::range(0, 10_100);
    let page = PageFacts { count: 100, newest: 10_100, oldest: 10_001, last_id: "x".into(), has_more: true };
    let policy = SplitPolicy { page_size: 100, pages_per_part: 8, ..SplitPolicy::default() };
    let parts = rest(&seg, &page, 4, policy);
    assert_eq!(parts.len(), 4, "{parts:?}");
    assert_eq!(parts[0].after.as_deref(), Some("x"), "the first part continues the cursor");
    assert_eq!(parts[0].hi, 10_001);
    assert!(parts[1..].iter().all(|p| p.after.is_none()));
    for pair in parts.windows(2) {
        assert_eq!(pair[1].hi, pair[0].lo - 1, "contiguous, no overlap: {parts:?}");
    }
    assert_eq!(parts.last().unwrap().lo, 0, "the oldest part reaches the segment's lower bound");
    // Sized by density (800 objects = 800 s), not by the (open) span.
    assert_eq!(parts[0].hi - parts[0].lo + 1, 800);
}

#[test]
fn an_open_lower_bound_is_explored_by_the_oldest_part() {
    let seg = Segment::range(i64::MIN, i64::MAX);
    let page =
        PageFacts { count: 100, newest: 1_700_000_099, oldest: 1_700_000_000, last_id: "x".into(), has_more: true };
    let parts = rest(&seg, &page, 8, SplitPolicy::default());
    assert_eq!(parts.len(), 8);
    assert_eq!(parts.last().unwrap().lo, i64::MIN);
    assert_eq!(parts[0].hi, 1_700_000_000);
}

#[test]
fn little_left_means_no_split() {
    let seg = Segment::range(1_850, 2_000);
    let page = PageFacts { count: 100, newest: 2_000, oldest: 1_901, last_id: "x".into(), has_more: true };
    // About 50 objects left (1/s over 51 s): one more page, not worth a second range.
    assert_eq!(rest(&seg, &page, 8, SplitPolicy::default()).len(), 1);
}

#[test]
fn whole_scans_fetch_every_object_exactly_once() {
    let policy = SplitPolicy { page_size: 10, pages_per_part: 3, ..SplitPolicy::default() };
    for seed in 1..40u64 {
        // From very sparse to many objects per second (ties everywhere).
        let spread = [5, 50, 3_000, 1_000_000][seed as usize % 4];
        let objs = objects(500 + (seed as usize * 37) % 700, spread, seed);
        for workers in [1, 2, 8] {
            let (seen, _) = scan(&objs, workers, seed, policy);
            assert_exactly_once(&objs, &seen);
        }
    }
}

#[test]
fn one_second_holding_many_pages_is_walked_by_cursor() {
    let mut objs: Vec<(i64, String)> = (0..250).map(|i| (1_700_000_000, format!("ch_a{i:04}"))).collect();
    objs.extend((0..50).map(|i| (1_699_000_000 + i, format!("ch_b{i:04}"))));
    objs.sort_by(|a, b| b.cmp(a));
    let (seen, _) = scan(&objs, 8, 7, SplitPolicy { page_size: 10, pages_per_part: 2, ..SplitPolicy::default() });
    assert_exactly_once(&objs, &seen);
}

#[test]
fn parallel_scans_waste_few_requests() {
    let objs = objects(20_000, 3_000_000, 11);
    let policy = SplitPolicy { page_size: 100, pages_per_part: 8, ..SplitPolicy::default() };
    let (seen, requests) = scan(&objs, 10, 3, policy);
    assert_exactly_once(&objs, &seen);
    // 200 full pages would be ideal; partly filled last pages of ranges cost some.
    assert!(requests <= 240, "{requests} requests for 200 pages of objects");
}

#[test]
#[ignore = "prints request counts for tuning pages_per_part"]
fn tune_pages_per_part() {
    let objs: Vec<(i64, String)> =
        (0..50_000).map(|n| (1_780_000_000 - (n / 2) as i64 * 40, format!("ch_{n:08}"))).collect();
    for ppp in [4, 8, 12, 16, 24, 32] {
        let (seen, requests) =
            scan(&objs, 10, 5, SplitPolicy { page_size: 100, pages_per_part: ppp, ..SplitPolicy::default() });
        assert_exactly_once(&objs, &seen);
        eprintln!("pages_per_part {ppp}: {requests} requests");
    }
}

/// Every bound a segment would send (`None`: unbounded).
fn sent_bounds(segment: &Segment) -> [Option<i64>; 2] {
    [(segment.lo != i64::MIN).then_some(segment.lo), (segment.hi != i64::MAX).then_some(segment.hi)]
}

#[test]
fn ranges_are_never_planned_before_the_floor() {
    let floor = 1_690_000_000;
    let seg = Segment::range(i64::MIN, i64::MAX);
    let page =
        PageFacts { count: 100, newest: 1_700_000_099, oldest: 1_700_000_000, last_id: "x".into(), has_more: true };
    let policy = SplitPolicy { floor, ..SplitPolicy::default() };
    let parts = rest(&seg, &page, 16, policy);
    assert!(parts.len() > 1, "{parts:?}");
    let (oldest, planned) = parts.split_last().unwrap();
    assert!(planned.iter().all(|p| p.lo > floor && p.hi >= p.lo), "{parts:?}");
    assert_eq!((oldest.lo, oldest.hi), (i64::MIN, planned.last().unwrap().lo - 1), "open below: nothing lost");
    assert!(oldest.hi >= floor);
    // Without a floor of its own, the planner still never goes below 0.
    let parts = rest(&seg, &page, 16, SplitPolicy::default());
    assert!(parts.iter().flat_map(sent_bounds).flatten().all(|b| b >= 0), "{parts:?}");
    // A page already at the floor: keep walking by cursor.
    let at_floor = PageFacts { oldest: floor, ..page };
    assert_eq!(rest(&seg, &at_floor, 16, policy).len(), 1);
}

/// A dense recent month (2,000 objects) and five old outliers; the account
/// was created a day before the oldest one (the floor).
fn uneven() -> (Vec<(i64, String)>, i64) {
    let month = 30 * 86_400;
    let mut objs: Vec<(i64, String)> =
        (0..2_000).map(|i| (1_780_000_000 - (i * month / 2_000), format!("ch_d{i:05}"))).collect();
    let outliers = [1_420_070_400, 1_500_000_000, 1_600_000_000, 1_650_000_000, 1_700_000_000];
    objs.extend(outliers.iter().enumerate().map(|(i, c)| (*c, format!("ch_o{i}"))));
    objs.sort_by(|a, b| b.cmp(a));
    (objs, outliers[0] - 86_400)
}

#[test]
fn uneven_tables_cost_their_pages_plus_a_few_calls() {
    let (objs, floor) = uneven();
    let policy = SplitPolicy { page_size: 100, pages_per_part: 8, floor, ..SplitPolicy::default() };
    let pages = objs.len().div_ceil(100);
    for (workers, seed) in [(16, 1), (16, 2), (8, 3), (4, 4)] {
        let (seen, requests) = scan(&objs, workers, seed, policy);
        assert_exactly_once(&objs, &seen);
        assert!(requests <= pages + workers, "{requests} requests for {pages} pages with {workers} workers");
    }
}

#[test]
fn a_continuation_with_under_a_page_left_is_expected_to_end() {
    // One object every 2 s: a page of 100 spans 198 s.
    let page = PageFacts { count: 100, newest: 10_198, oldest: 10_000, last_id: "x".into(), has_more: true };
    let policy = SplitPolicy { floor: 1_000, ..SplitPolicy::default() };
    let part = |lo| Segment { lo, hi: 10_000, after: Some("x".into()) };
    assert!(ends_with_next_page(&part(9_850), &page, policy), "~75 objects left");
    assert!(!ends_with_next_page(&part(9_700), &page, policy), "~150 objects left");
    // The open-ended oldest range is sized down to the floor: far from its end.
    assert!(!ends_with_next_page(&part(i64::MIN), &page, policy));
    // A range wholly below the floor holds nothing.
    assert!(ends_with_next_page(&Segment { lo: 0, hi: 900, after: None }, &page, policy));
}

/// A scan at a rate limit, in simulated time: `workers` fetches at most, sent
/// one per `1 / rps` seconds in the order started, each answered `latency`
/// seconds after it is sent; after each page, [`rest`] decides as the parallel
/// walk does (a segment expected to end with its next page frees its worker;
/// the scan is ending once no other segment is [`splittable`]). Returns (ids,
/// requests, seconds).
fn timed_scan(
    objects: &[(i64, String)],
    workers: usize,
    policy: SplitPolicy,
    rps: f64,
    latency: f64,
) -> (Vec<String>, usize, f64) {
    use std::collections::VecDeque;
    struct Fetch {
        segment: Segment,
        ends: bool,
        pages: f64,
    }
    let mut queue =
        VecDeque::from([Fetch { segment: Segment::range(i64::MIN, i64::MAX), ends: false, pages: f64::INFINITY }]);
    // (answered at, fetch), in send order (answers come in that order).
    let mut in_flight: VecDeque<(f64, Fetch)> = VecDeque::new();
    let (mut now, mut next_send, mut ending) = (0.0f64, 0.0f64, 0usize);
    let (mut seen, mut requests) = (Vec::new(), 0);
    loop {
        while in_flight.len() < workers {
            let Some(fetch) = queue.pop_front() else { break };
            let sent = next_send.max(now);
            next_send = sent + 1.0 / rps;
            in_flight.push_back((sent + latency, fetch));
        }
        let Some((answered, fetch)) = in_flight.pop_front() else { break };
        now = answered;
        ending -= usize::from(fetch.ends);
        let (page, has_more) = page_of(objects, &fetch.segment, policy.page_size);
        requests += 1;
        seen.extend(page.iter().map(|o| o.1.clone()));
        let page = facts(&page, has_more);
        let busy = (in_flight.len() + queue.len()).saturating_sub(ending);
        let mut others = in_flight.iter().map(|(_, f)| f.pages).chain(queue.iter().map(|f| f.pages));
        let policy = SplitPolicy { ending: requests > 1 && !others.any(splittable), ..policy };
        for (n, next) in rest(&fetch.segment, &page, workers.saturating_sub(busy), policy).into_iter().enumerate() {
            let ends = n == 0 && ends_with_next_page(&next, &page, policy);
            ending += usize::from(ends);
            let pages = expected_pages(&next, &page, policy);
            queue.push_back(Fetch { segment: next, ends, pages });
        }
    }
    (seen, requests, now)
}

/// Charges like the benchmark's: pairs sharing a second, 40 s apart.
fn even_pairs(n: usize) -> Vec<(i64, String)> {
    (0..n).map(|i| (1_780_000_000 - (i / 2) as i64 * 40, format!("ch_{i:08}"))).collect()
}

#[test]
fn a_scan_at_the_rate_limit_keeps_its_budget_busy_to_the_end() {
    // 50,000 objects at 25 requests/s and 300 ms a response: 500 full pages
    // take 20.3 s at best. Evenly spread (as the benchmark's), the scan comes
    // within 5 % of that; created at random, within 12 % (partly filled last
    // pages of ranges sized from one page's density).
    let cases = [("even", even_pairs(50_000), 510, 0.95), ("random", objects(50_000, 2_000_000, 11), 560, 0.88)];
    for (name, objs, most_requests, least_share) in cases {
        let floor = objs.last().map_or(0, |o| o.0);
        for workers in [8, 16, 24] {
            let policy = SplitPolicy { floor, ..SplitPolicy::default() };
            let (seen, requests, secs) = timed_scan(&objs, workers, policy, 25.0, 0.3);
            assert_exactly_once(&objs, &seen);
            let share = (500.0 / 25.0 + 0.3) / secs;
            assert!(requests <= most_requests, "{name}, {workers} workers: {requests} requests for 500 pages");
            assert!(share >= least_share, "{name}, {workers} workers: {secs:.2} s, {:.1}% of the best", 100.0 * share);
        }
    }
}

#[test]
fn an_ending_scan_fetches_what_is_left_at_once() {
    // One object every 2 s: about 250 objects (2.5 pages) are left below the page.
    let seg = Segment::range(9_500, 10_198);
    let page = PageFacts { count: 100, newest: 10_198, oldest: 10_000, last_id: "x".into(), has_more: true };
    let policy = SplitPolicy { floor: 1_000, ..SplitPolicy::default() };
    assert_eq!(rest(&seg, &page, 8, policy).len(), 1, "mid-scan: under 3 pages each is not worth a range");
    let parts = rest(&seg, &page, 8, SplitPolicy { ending: true, ..policy });
    assert_eq!(parts.len(), 3, "{parts:?}");
    assert_eq!((parts[0].hi, parts[0].after.as_deref(), parts[2].lo), (10_000, Some("x"), 9_500), "{parts:?}");
    // Each a page by the density, the oldest taking the rest.
    assert!(parts[..2].iter().all(|p| (p.hi - p.lo + 1) as f64 * 99.0 / 198.0 <= 100.0), "{parts:?}");
}

#[test]
fn uneven_tables_cost_their_pages_plus_a_few_calls_at_the_rate_limit() {
    let (objs, floor) = uneven();
    let pages = objs.len().div_ceil(100);
    for workers in [4, 8, 16] {
        let policy = SplitPolicy { floor, ..SplitPolicy::default() };
        let (seen, requests, _) = timed_scan(&objs, workers, policy, 25.0, 0.3);
        assert_exactly_once(&objs, &seen);
        // The first split and the ending one may each send a worker's worth of
        // ranges that hold (nearly) nothing: the density of one page says little.
        assert!(requests <= pages + 2 * workers, "{requests} requests for {pages} pages with {workers} workers");
    }
}

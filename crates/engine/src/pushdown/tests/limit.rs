//! LIMIT pushdown.

use datafusion::logical_expr::{col, lit};

use super::fixture::*;
use crate::pushdown::{Options, RequestPlan, plan};

fn list_limit(p: &crate::pushdown::Pushdown) -> (String, Option<usize>) {
    match &p.plan {
        RequestPlan::List { requests, max_rows } => {
            let limit = requests[0].params.iter().find(|(k, _)| k == "limit").expect("limit param").1.clone();
            (limit, *max_rows)
        }
        other => panic!("expected a list, got {other:?}"),
    }
}

#[test]
fn limit_sets_the_page_size_when_every_filter_is_exact() {
    let opts = Options::default();
    assert_eq!(list_limit(&plan(&charges(), &[], Some(5), &opts)), ("5".into(), Some(5)));
    assert_eq!(list_limit(&plan(&charges(), &[], Some(500), &opts)), ("100".into(), Some(500)));
    assert_eq!(list_limit(&plan(&charges(), &[], None, &opts)), ("100".into(), None));
    let exact = [col("customer").eq(lit("cus_1"))];
    assert_eq!(list_limit(&plan(&charges(), &exact, Some(7), &opts)), ("7".into(), Some(7)));
    assert!(plan(&charges(), &[], Some(5), &opts).plan.to_string().ends_with("limit=5, stop after 5 rows"));
}

#[test]
fn limit_is_ignored_when_some_filter_is_rechecked() {
    let opts = Options::default();
    let inexact = [col("email").eq(lit("a@b.co"))];
    assert_eq!(list_limit(&plan(&customers(), &inexact, Some(5), &opts)), ("100".into(), None));
    let unsupported = [col("description").eq(lit("x")), col("customer").eq(lit("c"))];
    let opts = Options { use_search: false };
    assert_eq!(list_limit(&plan(&charges(), &unsupported, Some(5), &opts)), ("100".into(), None));
}

#[test]
fn limit_zero_makes_no_call() {
    assert_eq!(plan(&charges(), &[], Some(0), &Options::default()).plan, RequestPlan::Empty);
}

#[test]
fn a_row_limit_added_after_planning_shrinks_pages_and_stops() {
    let opts = Options::default();
    let limited = |n, limit| {
        let p = plan(&charges(), &[col("customer").eq(lit("cus_1"))], limit, &opts);
        crate::pushdown::Pushdown { support: p.support, plan: p.plan.with_row_limit(n) }
    };
    assert_eq!(list_limit(&limited(5, None)), ("5".into(), Some(5)));
    assert_eq!(list_limit(&limited(500, None)), ("100".into(), Some(500)));
    assert_eq!(list_limit(&limited(9, Some(3))), ("3".into(), Some(3)));
    let retrieve = plan(&charges(), &[col("id").eq(lit("ch_1"))], None, &opts).plan;
    assert_eq!(retrieve.clone().with_row_limit(1), retrieve);
}

//! Events' `type` (equality) and `types` (array) params on one column: one
//! value is `type=`, several are one `types[]` request, more than 20 fan out.

use datafusion::logical_expr::{TableProviderFilterPushDown::*, col, lit};

use super::fixture::*;
use crate::pushdown::RequestPlan;

/// events as the real catalog has it: `type` (equality) and `types` (array) on one column.
fn events_with_type_and_types() -> crate::catalog::TableDef {
    let mut t = events();
    t.list_filters.insert(
        1,
        crate::catalog::FilterDef {
            param: "type".into(),
            column: Some("type".into()),
            kind: crate::catalog::FilterKind::Equality,
        },
    );
    t
}

#[test]
fn one_event_type_uses_type_and_several_use_one_types_request() {
    let t = events_with_type_and_types();
    let p = run(&t, &[col("type").eq(lit("charge.succeeded"))]);
    assert_eq!(single_list(&p), pairs(&[("type", "charge.succeeded"), ("limit", "100")]));
    assert_eq!(p.support, [Exact]);
    let p = run(&t, &[col("type").in_list(vec![lit("a.b"), lit("c.d"), lit("e.f"), lit("g.h")], false)]);
    assert_eq!(
        single_list(&p),
        pairs(&[("types[]", "a.b"), ("types[]", "c.d"), ("types[]", "e.f"), ("types[]", "g.h"), ("limit", "100")])
    );
    assert_eq!(p.support, [Exact]);
    // More than Stripe's 20 types: one request per type (fan-out) rather than a 400.
    let many: Vec<_> = (0..21).map(|i| lit(format!("t.{i}"))).collect();
    let p = run(&t, &[col("type").in_list(many, false)]);
    assert!(
        matches!(&p.plan, RequestPlan::List { requests, .. } if requests.iter().all(|r| r.params.iter().all(|(k, _)| k != "types[]")))
    );
}

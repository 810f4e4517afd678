//! Nested tables: the parent filter fills the path.

use datafusion::logical_expr::{TableProviderFilterPushDown::*, col, in_list, lit};

use super::fixture::*;
use crate::pushdown::RequestPlan;

#[test]
fn missing_parent_is_reported() {
    let p = run(&invoice_lines(), &[col("amount").gt(lit(5i64))]);
    assert_eq!(p.plan, RequestPlan::MissingParent { table: "invoice_lines".into(), column: "invoice".into() });
    assert!(p.plan.to_string().contains("WHERE invoice = "), "{}", p.plan);
}

#[test]
fn parent_fills_the_path() {
    let p = run(&invoice_lines(), &[col("invoice").eq(lit("in_1"))]);
    let RequestPlan::List { requests, .. } = &p.plan else { panic!("{:?}", p.plan) };
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/invoices/in_1/lines");
    assert_eq!(requests[0].params, pairs(&[("limit", "100")]));
    assert_eq!(requests[0].implied, pairs(&[("invoice", "in_1")]));
    assert_eq!(p.support, [Exact]);
}

#[test]
fn parent_in_fans_out_and_drops_impossible_ids() {
    let f = in_list(col("invoice"), ["in_2", "in_1", "../x", "in_1"].map(lit).to_vec(), false);
    let p = run(&invoice_lines(), &[f]);
    let RequestPlan::List { requests, .. } = &p.plan else { panic!("{:?}", p.plan) };
    let paths: Vec<_> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/v1/invoices/in_1/lines", "/v1/invoices/in_2/lines"]);
    assert_eq!(p.support, [Exact]);
}

#[test]
fn impossible_parent_makes_no_call() {
    for bad in ["../../v1/charges", "in_1/lines?x", "in%2F1"] {
        let p = run(&invoice_lines(), &[col("invoice").eq(lit(bad))]);
        assert_eq!(p.plan, RequestPlan::Empty, "{bad}");
    }
}

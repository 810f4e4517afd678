//! Search API translation and escaping.

use datafusion::arrow::datatypes::DataType;
use datafusion::functions::core::expr_fn::get_field;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown::*, cast, col, in_list, lit};

use super::fixture::*;
use crate::pushdown::search::quote as search_quote;
use crate::pushdown::{Options, Pushdown, RequestPlan, plan};

fn query(p: &Pushdown) -> String {
    match &p.plan {
        RequestPlan::Search { query, .. } => query.clone(),
        other => panic!("expected a search, got {other:?}"),
    }
}

#[test]
fn name_equality_uses_search() {
    let p = run(&customers(), &[col("name").eq(lit("Jenny Rosen"))]);
    assert_eq!(query(&p), "name:'Jenny Rosen'");
    assert_eq!(p.support, [Inexact]);
    assert_eq!(
        p.plan.to_string(),
        "search GET /v1/customers/search query=\"name:'Jenny Rosen'\" limit=100 (eventually consistent)"
    );
}

#[test]
fn values_are_escaped() {
    let p = run(&customers(), &[col("name").eq(lit(r"O'Brien \ x' OR email:'a"))]);
    assert_eq!(query(&p), r"name:'O\'Brien \\ x\' OR email:\'a'");
    assert_eq!(search_quote(r"a\'b"), r"'a\\\'b'");
}

#[test]
fn like_becomes_a_substring_superset() {
    let p = run(&customers(), &[col("email").like(lit("%@example.com"))]);
    assert_eq!(query(&p), "email~'@example.com'");
    assert_eq!(p.support, [Inexact]);
    // The longest literal run is used.
    let p = run(&customers(), &[col("name").like(lit("Jo_n%Rosenberg%"))]);
    assert_eq!(query(&p), "name~'Rosenberg'");
}

#[test]
fn untranslatable_likes_stay_with_datafusion() {
    let short = col("email").like(lit("ab%"));
    let escaped = col("email").like(lit(r"%100\%%"));
    let ilike = col("email").ilike(lit("%@example.com"));
    let negated = col("email").not_like(lit("%@example.com"));
    for f in [short, escaped, ilike, negated] {
        let p = run(&customers(), std::slice::from_ref(&f));
        assert_eq!(p.support, [Unsupported], "{f}");
        assert!(matches!(p.plan, RequestPlan::List { .. }));
    }
}

#[test]
fn metadata_access_is_searchable() {
    let f = get_field(col("metadata"), "plan").eq(lit("pro"));
    let p = run(&customers(), &[f]);
    assert_eq!(query(&p), "metadata['plan']:'pro'");
    assert_eq!(p.support, [Inexact]);
    let hostile = get_field(col("metadata"), "k']:'x").eq(lit("v"));
    assert_eq!(query(&run(&customers(), &[hostile])), r"metadata['k\']:\'x']:'v'");
}

#[test]
fn numeric_comparisons_are_exact() {
    let p = run(&charges(), &[col("amount").gt(lit(1000i64))]);
    assert_eq!(query(&p), "amount>1000");
    assert_eq!(p.support, [Exact]);
    let p = run(&charges(), &[col("amount").eq(lit(1000i64))]);
    assert_eq!(query(&p), "amount>=1000 AND amount<=1000");
}

#[test]
fn float_comparison_on_an_integer_column_is_rounded_and_rechecked() {
    let p = run(&charges(), &[cast(col("amount"), DataType::Float64).gt(lit(100.5f64))]);
    assert_eq!(query(&p), "amount>100");
    assert_eq!(p.support, [Inexact]);
    let p = run(&charges(), &[cast(col("amount"), DataType::Float64).eq(lit(100.5f64))]);
    assert_eq!(p.plan, RequestPlan::Empty);
}

#[test]
fn search_combines_every_expressible_predicate() {
    let filters = [
        col("status").eq(lit("succeeded")),
        col("customer").eq(lit("cus_1")),
        col("created").gt_eq(ts(1_704_067_200)),
        col("description").eq(lit("x")),
    ];
    let p = run(&charges(), &filters);
    assert_eq!(query(&p), "created>=1704067200 AND customer:'cus_1' AND status:'succeeded'");
    assert_eq!(p.support, [Inexact, Inexact, Exact, Unsupported]);
}

#[test]
fn list_is_preferred_when_it_expresses_everything() {
    let p = run(&charges(), &[col("customer").eq(lit("cus_1")), col("created").gt(ts(5))]);
    assert!(matches!(p.plan, RequestPlan::List { .. }));
    let p = run(&customers(), &[col("email").eq(lit("a@b.co"))]);
    assert!(matches!(p.plan, RequestPlan::List { .. }));
}

#[test]
fn in_lists_are_not_translated() {
    let f: Expr = in_list(col("status"), ["failed", "pending", "succeeded", "x"].map(lit).to_vec(), false);
    let p = run(&charges(), &[f]);
    assert_eq!(p.support, [Unsupported]);
    assert!(matches!(p.plan, RequestPlan::List { .. }));
}

#[test]
fn use_search_false_falls_back_to_list() {
    let opts = Options { use_search: false };
    let p = plan(&charges(), &[col("amount").gt(lit(1000i64)), col("customer").eq(lit("cus_1"))], None, &opts);
    assert_eq!(single_list(&p), pairs(&[("customer", "cus_1"), ("limit", "100")]));
    assert_eq!(p.support, [Unsupported, Exact]);
}

#[test]
fn exact_search_takes_the_limit() {
    let p = plan(&charges(), &[col("amount").gt(lit(1000i64))], Some(5), &Options::default());
    assert!(matches!(p.plan, RequestPlan::Search { page_size: 5, max_rows: Some(5), .. }), "{:?}", p.plan);
}

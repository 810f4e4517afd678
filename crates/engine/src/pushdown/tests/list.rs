//! Equality, enum, boolean and array list params, with IN fan-out.

use datafusion::logical_expr::{Expr, TableProviderFilterPushDown::*, col, in_list, lit, not};

use super::fixture::*;
use crate::pushdown::{Options, RequestPlan, plan};

fn requests(p: &crate::pushdown::Pushdown) -> Vec<crate::pushdown::ListRequest> {
    match &p.plan {
        RequestPlan::List { requests, .. } => requests.clone(),
        other => panic!("expected lists, got {other:?}"),
    }
}

#[test]
fn email_is_sent_but_rechecked() {
    let p = run(&customers(), &[col("email").eq(lit("jenny@example.com"))]);
    assert_eq!(single_list(&p), pairs(&[("email", "jenny@example.com"), ("limit", "100")]));
    assert_eq!(p.support, [Inexact]);
    assert_eq!(p.plan.to_string(), "list GET /v1/customers?email=jenny@example.com&limit=100");
}

#[test]
fn customer_and_created_range_are_exact_params() {
    let p = run(
        &charges(),
        &[
            qcol("charges", "customer").eq(lit("cus_1")),
            col("created").gt_eq(ts(1_704_067_200)),
            col("created").lt(ts(1_706_745_600)),
        ],
    );
    assert_eq!(
        single_list(&p),
        pairs(&[
            ("created[gte]", "1704067200"),
            ("created[lt]", "1706745600"),
            ("customer", "cus_1"),
            ("limit", "100")
        ])
    );
    assert_eq!(p.support, [Exact, Exact, Exact]);
    let RequestPlan::List { requests, .. } = &p.plan else { unreachable!() };
    assert_eq!(requests[0].implied, pairs(&[("customer", "cus_1")]));
}

#[test]
fn booleans_from_bare_columns_and_literals() {
    let cases: [(Expr, &str); 5] = [
        (col("active"), "true"),
        (not(col("active")), "false"),
        (col("active").eq(lit(true)), "true"),
        (col("active").is_false(), "false"),
        (lit(false).eq(col("active")), "false"),
    ];
    for (filter, want) in cases {
        let p = run(&prices(), &[filter.clone(), col("product").eq(lit("prod_1"))]);
        assert_eq!(single_list(&p), pairs(&[("active", want), ("product", "prod_1"), ("limit", "100")]), "{filter}");
        assert_eq!(p.support, [Exact, Exact]);
    }
}

#[test]
fn bare_boolean_without_list_param_is_unsupported() {
    let p = run(&customers(), &[not(col("livemode"))]);
    assert_eq!(p.support, [Unsupported]);
}

#[test]
fn in_on_one_param_fans_out() {
    let or = col("customer").eq(lit("cus_2")).or(col("customer").eq(lit("cus_1")));
    let p = run(&charges(), &[or]);
    let reqs = requests(&p);
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].params, pairs(&[("customer", "cus_1"), ("limit", "100")]));
    assert_eq!(reqs[1].params, pairs(&[("customer", "cus_2"), ("limit", "100")]));
    assert_eq!(reqs[1].implied, pairs(&[("customer", "cus_2")]));
    assert_eq!(p.support, [Exact]);
    assert!(p.plan.to_string().starts_with("list ×2 merged by id: GET /v1/charges?customer=cus_1"), "{}", p.plan);
}

#[test]
fn two_fanouts_multiply_and_are_capped() {
    let six = |c: &str| in_list(col(c), (0..6).map(|i| lit(format!("x_{i}"))).collect(), false);
    let p = run(&charges(), &[six("customer"), col("payment_intent").eq(lit("pi_1"))]);
    assert_eq!(requests(&p).len(), 6);
    let p = run(&charges(), &[six("customer"), six("payment_intent")]);
    assert_eq!(requests(&p).len(), 6, "36 lists exceed the cap: one IN goes back to DataFusion");
    assert_eq!(p.support.iter().filter(|s| **s == Unsupported).count(), 1);
    let few = |c: &str| in_list(col(c), (0..4).map(|i| lit(format!("x_{i}"))).collect(), false);
    assert_eq!(requests(&run(&charges(), &[few("customer"), few("payment_intent")])).len(), 16);
}

#[test]
fn intersecting_ins_narrow_the_fanout() {
    let a = in_list(col("customer"), ["c_1", "c_2", "c_3", "c_4"].map(lit).to_vec(), false);
    let b = col("customer").eq(lit("c_2")).or(col("customer").eq(lit("c_9")));
    let p = run(&charges(), &[a, b]);
    assert_eq!(single_list(&p), pairs(&[("customer", "c_2"), ("limit", "100")]));
    assert_eq!(p.support, [Exact, Exact]);
}

#[test]
fn subscriptions_default_to_all_statuses() {
    let p = run(&subscriptions(), &[col("customer").eq(lit("cus_1"))]);
    assert_eq!(single_list(&p), pairs(&[("customer", "cus_1"), ("status", "all"), ("limit", "100")]));
    let p = run(&subscriptions(), &[col("status").eq(lit("canceled"))]);
    assert_eq!(single_list(&p), pairs(&[("status", "canceled"), ("limit", "100")]));
    assert_eq!(p.support, [Exact]);
    // NOT IN arrives as `!=` filters: not pushable, all statuses listed.
    let p = run(&subscriptions(), &[col("status").not_eq(lit("canceled")), col("status").not_eq(lit("active"))]);
    assert_eq!(single_list(&p), pairs(&[("status", "all"), ("limit", "100")]));
    assert_eq!(p.support, [Unsupported, Unsupported]);
}

#[test]
fn enum_values_outside_the_enum_or_sentinels_are_not_sent() {
    for v in ["bogus", "all", "ended"] {
        let p = run(&subscriptions(), &[col("status").eq(lit(v))]);
        assert_eq!(single_list(&p), pairs(&[("status", "all"), ("limit", "100")]), "{v}");
        assert_eq!(p.support, [Unsupported]);
    }
    let p = run(&prices(), &[col("type").eq(lit("recurring"))]);
    assert_eq!(single_list(&p), pairs(&[("type", "recurring"), ("limit", "100")]));
}

#[test]
fn constants() {
    let p = run(&charges(), &[lit(false), col("customer").eq(lit("cus_1"))]);
    assert_eq!(p.plan, RequestPlan::Empty);
    assert_eq!(p.support, [Exact, Exact]);
    let p = run(&charges(), &[lit(true)]);
    assert_eq!(single_list(&p), pairs(&[("limit", "100")]));
    assert_eq!(p.support, [Exact]);
    let p = run(&charges(), &[col("customer").eq(lit("a")), col("customer").eq(lit("b"))]);
    assert_eq!(p.plan, RequestPlan::Empty);
}

#[test]
fn array_params_go_in_one_request() {
    let p = run(&events(), &[col("type").eq(lit("charge.succeeded")).or(col("type").eq(lit("invoice.paid")))]);
    assert_eq!(
        single_list(&p),
        pairs(&[("types[]", "charge.succeeded"), ("types[]", "invoice.paid"), ("limit", "100")])
    );
    assert_eq!(p.support, [Exact]);
    // Stripe reads `*` as a wildcard: a superset.
    let p = run(&events(), &[col("type").eq(lit("charge.*"))]);
    assert_eq!(p.support, [Inexact]);
}

#[test]
fn unusable_values_stay_with_datafusion() {
    let p = run(&charges(), &[col("customer").eq(lit(""))]);
    assert_eq!(p.support, [Unsupported]);
    let p = run(&charges(), &[col("customer").eq(lit("c".repeat(10_000)))]);
    assert_eq!(p.support, [Unsupported]);
    assert_eq!(single_list(&p), pairs(&[("limit", "100")]));
}

#[test]
fn without_search_lists_what_params_express() {
    let opts = Options { use_search: false };
    let p = plan(&customers(), &[col("name").eq(lit("Jenny Rosen")), col("created").gt(ts(5))], None, &opts);
    assert_eq!(single_list(&p), pairs(&[("created[gt]", "5"), ("limit", "100")]));
    assert_eq!(p.support, [Unsupported, Exact]);
}

#[test]
fn params_rebuild_as_json_for_the_client() {
    let p =
        run(&charges(), &[col("customer").eq(lit("cus_1")), col("created").gt_eq(ts(10)), col("created").lt(ts(20))]);
    let v = requests(&p)[0].query_value();
    assert_eq!(v, serde_json::json!({"created": {"gte": "10", "lt": "20"}, "customer": "cus_1", "limit": "100"}));
    let p = run(&events(), &[col("type").eq(lit("a.b")).or(col("type").eq(lit("c.d")))]);
    assert_eq!(requests(&p)[0].query_value(), serde_json::json!({"types": ["a.b", "c.d"], "limit": "100"}));
}

#[test]
fn unpaginated_lists_get_no_limit() {
    let mut table = customers();
    table.paginated = false;
    let p = run(&table, &[]);
    let RequestPlan::List { requests, .. } = &p.plan else { panic!("{:?}", p.plan) };
    assert!(requests.iter().all(|r| r.params.iter().all(|(k, _)| k != "limit")), "{requests:?}");
    assert!(crate::catalog::builtin().tables.iter().filter(|t| !t.paginated).count() >= 2);
}

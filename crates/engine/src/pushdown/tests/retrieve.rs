//! `id = …` / `id IN (…)` → retrieves.

use datafusion::logical_expr::{col, in_list, lit};

use super::fixture::*;
use crate::pushdown::{RequestPlan, retrieve_path};
use datafusion::logical_expr::TableProviderFilterPushDown::{Exact, Inexact, Unsupported};

fn ids_of(plan: &RequestPlan) -> Vec<String> {
    match plan {
        RequestPlan::Retrieve { path, ids } => {
            assert_eq!(path, "/v1/customers/{id}");
            ids.clone()
        }
        other => panic!("expected a retrieve, got {other:?}"),
    }
}

#[test]
fn one_id_is_one_exact_retrieve() {
    let p = run(&customers(), &[qcol("customers", "id").eq(lit("cus_1"))]);
    assert_eq!(ids_of(&p.plan), ["cus_1"]);
    assert_eq!(p.support, [Exact]);
    assert_eq!(p.plan.to_string(), "retrieve GET /v1/customers/cus_1");
}

#[test]
fn literal_on_the_left_is_understood() {
    let p = run(&customers(), &[lit("cus_2").eq(col("id"))]);
    assert_eq!(ids_of(&p.plan), ["cus_2"]);
}

#[test]
fn or_chain_and_in_list_retrieve_each_id_once() {
    let or = col("id").eq(lit("cus_b")).or(col("id").eq(lit("cus_a"))).or(col("id").eq(lit("cus_b")));
    let p = run(&customers(), &[or]);
    assert_eq!(ids_of(&p.plan), ["cus_a", "cus_b"]);
    let four = in_list(col("id"), ["cus_1", "cus_2", "cus_3", "cus_4"].map(lit).to_vec(), false);
    let p = run(&customers(), &[four]);
    assert_eq!(ids_of(&p.plan).len(), 4);
    assert_eq!(p.support, [Exact]);
    assert!(p.plan.to_string().starts_with("retrieve GET /v1/customers/{id} ×4 (cus_1, cus_2"), "{}", p.plan);
}

#[test]
fn other_filters_are_rechecked_on_retrieved_rows() {
    let p =
        run(&customers(), &[col("email").like(lit("%@x.com")), col("id").eq(lit("cus_1")), col("name").eq(lit("Jo"))]);
    assert_eq!(ids_of(&p.plan), ["cus_1"]);
    assert_eq!(p.support, [Inexact, Exact, Inexact]);
}

#[test]
fn invalid_ids_cannot_exist() {
    for bad in ["../charges", "cus_1/../x", "cus 1", "cus_1?x=1", "", "%2F", "ä"] {
        let p = run(&customers(), &[col("id").eq(lit(bad))]);
        assert_eq!(p.plan, RequestPlan::Empty, "{bad:?}");
        assert_eq!(p.support, [Exact]);
    }
    let huge = "a".repeat(100_000);
    assert_eq!(run(&customers(), &[col("id").eq(lit(huge))]).plan, RequestPlan::Empty);
    let mixed = in_list(col("id"), ["cus_1", "x/y", "cus_2", "'"].map(lit).to_vec(), false);
    assert_eq!(ids_of(&run(&customers(), &[mixed]).plan), ["cus_1", "cus_2"]);
}

#[test]
fn two_different_ids_contradict() {
    let p = run(&customers(), &[col("id").eq(lit("cus_1")), col("id").eq(lit("cus_2"))]);
    assert_eq!(p.plan, RequestPlan::Empty);
    assert_eq!(p.plan.to_string(), "no call (contradiction)");
    let p = run(
        &customers(),
        &[
            in_list(col("id"), ["cus_1", "cus_2", "cus_3", "cus_4"].map(lit).to_vec(), false),
            col("id").eq(lit("cus_3")).or(col("id").eq(lit("cus_9"))),
        ],
    );
    assert_eq!(ids_of(&p.plan), ["cus_3"]);
}

#[test]
fn id_without_retrieve_path_is_left_to_datafusion() {
    let mut t = customers();
    t.retrieve_path = None;
    let p = run(&t, &[col("id").eq(lit("cus_1"))]);
    assert_eq!(p.support, [Unsupported]);
    assert!(matches!(p.plan, RequestPlan::List { .. }));
}

#[test]
fn not_equal_on_id_is_not_a_retrieve() {
    let p = run(&customers(), &[col("id").not_eq(lit("cus_1"))]);
    assert_eq!(p.support, [Unsupported]);
    assert!(matches!(p.plan, RequestPlan::List { .. }));
}

#[test]
fn retrieve_path_encodes_the_id() {
    assert_eq!(retrieve_path("/v1/customers/{id}", "cus_1"), "/v1/customers/cus_1");
    assert_eq!(retrieve_path("/v1/customers/{id}", "a/b"), "/v1/customers/a%2Fb");
}

#[test]
fn more_ids_than_the_retrieve_cap_become_a_locally_filtered_list() {
    use crate::pushdown::retrieve::MAX_RETRIEVES;
    let many = |n: usize| in_list(col("id"), (0..n).map(|i| lit(format!("cus_{i}"))).collect(), false);
    let p = run(&customers(), &[many(MAX_RETRIEVES)]);
    assert_eq!(ids_of(&p.plan).len(), MAX_RETRIEVES);
    let p = run(&customers(), &[many(MAX_RETRIEVES + 1)]);
    assert!(matches!(p.plan, RequestPlan::List { .. }), "{}", p.plan);
    assert_ne!(p.support, [Exact], "the id filter must be re-checked");
}

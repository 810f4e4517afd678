//! Range params: bounds, merging, sub-second rounding, empty ranges.

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::logical_expr::{TableProviderFilterPushDown::*, cast, col};

use super::fixture::*;
use crate::pushdown::RequestPlan;
use crate::pushdown::predicate::Bound;
use crate::pushdown::range::Range;

#[test]
fn between_arrives_as_two_bounds() {
    let p = run(&charges(), &[col("created").gt_eq(ts(1_704_067_200)), col("created").lt_eq(ts(1_706_745_600))]);
    assert_eq!(
        single_list(&p),
        pairs(&[("created[gte]", "1704067200"), ("created[lte]", "1706745600"), ("limit", "100")])
    );
    assert_eq!(p.support, [Exact, Exact]);
}

#[test]
fn sub_second_literals_round_to_the_same_rows() {
    // created holds whole seconds: s > 1.5 ⇔ s > 1; s >= 1.5 ⇔ s >= 2; s < 1.5 ⇔ s < 2; s <= 1.5 ⇔ s <= 1.
    let cases = [
        (col("created").gt(ts_ms(1_500)), ("created[gt]", "1")),
        (col("created").gt_eq(ts_ms(1_500)), ("created[gte]", "2")),
        (col("created").lt(ts_ms(1_500)), ("created[lt]", "2")),
        (col("created").lt_eq(ts_ms(1_500)), ("created[lte]", "1")),
        (col("created").gt(ts_ms(-1_500)), ("created[gt]", "-2")),
        (col("created").gt_eq(ts_ms(3_000)), ("created[gte]", "3")),
    ];
    for (filter, want) in cases {
        let p = run(&charges(), std::slice::from_ref(&filter));
        assert_eq!(single_list(&p), pairs(&[want, ("limit", "100")]), "{filter}");
        assert_eq!(p.support, [Exact]);
    }
}

#[test]
fn several_bounds_keep_the_tightest() {
    let p = run(
        &charges(),
        &[
            col("created").gt(ts(10)),
            col("created").lt_eq(ts(50)),
            col("created").gt_eq(ts(20)),
            col("created").lt(ts(100)),
        ],
    );
    assert_eq!(single_list(&p), pairs(&[("created[gte]", "20"), ("created[lte]", "50"), ("limit", "100")]));
    assert_eq!(p.support, vec![Exact; 4]);
}

#[test]
fn equivalent_bounds_give_the_same_params_in_any_order() {
    let mut a = Range::default();
    a.add(Bound::Gt(4));
    a.add(Bound::Gte(5));
    let mut b = Range::default();
    b.add(Bound::Gte(5));
    b.add(Bound::Gt(4));
    assert_eq!(a, b);
    assert_eq!(a.list_params("created"), pairs(&[("created[gte]", "5")]));
}

#[test]
fn empty_ranges_make_no_call() {
    for filters in [
        vec![col("created").gt(ts(100)), col("created").lt(ts(50))],
        vec![col("created").gt(ts(5)), col("created").lt(ts(6))],
        vec![col("created").eq(ts_ms(1_500))],
        vec![
            col("amount").gt(datafusion::logical_expr::lit(10i64)),
            col("amount").lt_eq(datafusion::logical_expr::lit(10i64)),
        ],
    ] {
        let p = run(&charges(), &filters);
        assert_eq!(p.plan, RequestPlan::Empty, "{filters:?}");
        assert!(p.support.iter().all(|s| *s == Exact));
    }
}

#[test]
fn equality_on_a_range_param_is_a_closed_range() {
    let p = run(&charges(), &[col("created").eq(ts(1_704_067_200))]);
    assert_eq!(
        single_list(&p),
        pairs(&[("created[gte]", "1704067200"), ("created[lte]", "1704067200"), ("limit", "100")])
    );
}

#[test]
fn exact_casts_on_the_column_side_are_looked_through() {
    let ms = DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()));
    let p = run(&charges(), &[cast(col("created"), ms).gt(ts_ms(1_500))]);
    assert_eq!(single_list(&p), pairs(&[("created[gt]", "1"), ("limit", "100")]));
    assert_eq!(p.support, [Exact]);
}

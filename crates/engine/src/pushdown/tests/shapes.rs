//! The expression shapes DataFusion 55 hands a provider (notes/datafusion-55.md §1).

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown::*, col, in_list, lit};

use super::fixture::*;
use crate::pushdown::RequestPlan;
use crate::pushdown::predicate::{Pred, Scalar, classify};

#[test]
fn string_literals_of_every_width() {
    for v in [
        ScalarValue::Utf8(Some("cus_1".into())),
        ScalarValue::Utf8View(Some("cus_1".into())),
        ScalarValue::LargeUtf8(Some("cus_1".into())),
    ] {
        let pred = classify(&charges(), &qcol("charges", "customer").eq(lit(v)));
        assert_eq!(
            pred,
            Pred::OneOf { column: "customer".into(), values: vec![Scalar::Str("cus_1".into())], cast: false }
        );
    }
}

#[test]
fn null_comparisons_keep_no_row() {
    let p = run(&charges(), &[col("customer").eq(lit(ScalarValue::Utf8(None)))]);
    assert_eq!(p.plan, RequestPlan::Empty);
    assert_eq!(classify(&charges(), &lit(ScalarValue::Boolean(None))), Pred::Const(false));
}

#[test]
fn null_items_of_in_never_match() {
    let f = in_list(col("customer"), vec![lit("c_1"), lit(ScalarValue::Utf8(None)), lit("c_2"), lit("c_3")], false);
    let Pred::OneOf { values, .. } = classify(&charges(), &f) else { panic!() };
    assert_eq!(values.len(), 3);
}

#[test]
fn unrecognised_shapes_are_unsupported() {
    let lower = datafusion::functions::string::expr_fn::lower(col("email")).eq(lit("a@x.com"));
    let filters: Vec<Expr> = vec![
        col("customer").is_null(),
        col("customer").not_eq(lit("c")),
        lower,
        in_list(col("customer"), vec![lit("a"), lit("b"), lit("c"), lit("d")], true),
        col("customer").eq(lit("a")).or(col("payment_intent").eq(lit("b"))),
        col("customer").eq(col("payment_intent")),
        col("nonexistent").eq(lit("x")),
    ];
    let p = run(&charges(), &filters);
    assert_eq!(p.support, vec![Unsupported; filters.len()]);
}

#[test]
fn integer_literals_of_any_width() {
    for v in [ScalarValue::Int32(Some(7)), ScalarValue::Int64(Some(7)), ScalarValue::UInt8(Some(7))] {
        let pred = classify(&charges(), &col("amount").gt(lit(v)));
        assert!(matches!(pred, Pred::Range { .. }), "{pred:?}");
    }
}

#[test]
fn timestamp_units_and_zones_are_all_seconds() {
    let secs = 1_704_067_200i64;
    for v in [
        ScalarValue::TimestampSecond(Some(secs), Some("UTC".into())),
        ScalarValue::TimestampMillisecond(Some(secs * 1_000), Some("+00:00".into())),
        ScalarValue::TimestampMicrosecond(Some(secs * 1_000_000), None),
        ScalarValue::TimestampNanosecond(Some(secs * 1_000_000_000), Some("UTC".into())),
    ] {
        let p = run(&charges(), &[col("created").gt_eq(lit(v))]);
        assert_eq!(single_list(&p), pairs(&[("created[gte]", "1704067200"), ("limit", "100")]));
    }
}

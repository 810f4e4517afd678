//! Unit tests of the join-filter reading: each shape DataFusion publishes.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Operator, col, lit};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{self as px, BinaryExpr, CaseExpr, Column, InListExpr};

use super::*;

fn schema() -> Schema {
    Schema::new(vec![Field::new("customer", DataType::Utf8, true)])
}

fn key() -> Arc<dyn PhysicalExpr> {
    Arc::new(Column::new("customer", 0))
}

fn s(v: &str) -> Arc<dyn PhysicalExpr> {
    px::lit(ScalarValue::Utf8(Some(v.into())))
}

fn in_list(values: &[&str]) -> Arc<dyn PhysicalExpr> {
    Arc::new(InListExpr::try_new(key(), values.iter().map(|v| s(v)).collect(), false, &schema()).unwrap())
}

fn and(l: Arc<dyn PhysicalExpr>, r: Arc<dyn PhysicalExpr>) -> Arc<dyn PhysicalExpr> {
    Arc::new(BinaryExpr::new(l, Operator::And, r))
}

fn bounds(lo: &str, hi: &str) -> Arc<dyn PhysicalExpr> {
    and(
        Arc::new(BinaryExpr::new(key(), Operator::GtEq, s(lo))),
        Arc::new(BinaryExpr::new(key(), Operator::LtEq, s(hi))),
    )
}

#[test]
fn an_in_list_under_bounds_gives_the_keys() {
    let keys = key_filters(&and(bounds("cus_a", "cus_b"), in_list(&["cus_b", "cus_a", "cus_a"])), 100);
    assert_eq!(keys.keys, Some(2));
    assert!(!keys.over_limit);
    assert!(keys.filters.contains(&col("customer").in_list(vec![lit("cus_a"), lit("cus_b")], false)));
}

#[test]
fn too_many_keys_are_dropped() {
    let keys = key_filters(&in_list(&["a", "b", "c"]), 2);
    assert_eq!(keys.keys, Some(3));
    assert!(keys.over_limit);
    assert!(keys.filters.is_empty());
}

#[test]
fn equal_bounds_name_one_key() {
    let keys = key_filters(&bounds("cus_a", "cus_a"), 100);
    assert_eq!(keys.keys, Some(1));
    assert!(keys.filters.contains(&col("customer").eq(lit("cus_a"))));
    let wide = key_filters(&bounds("cus_a", "cus_z"), 100);
    assert_eq!(wide.keys, None);
    assert_eq!(wide.filters.len(), 2);
}

#[test]
fn false_and_partitions_are_read() {
    assert_eq!(key_filters(&px::lit(false), 100), KeyFilters::none_match());
    let routing: Arc<dyn PhysicalExpr> = px::lit(ScalarValue::UInt64(Some(0)));
    let case = CaseExpr::try_new(
        Some(key()),
        vec![(routing.clone(), in_list(&["a"])), (px::lit(ScalarValue::UInt64(Some(1))), px::lit(false))],
        Some(and(bounds("b", "c"), in_list(&["b", "c"]))),
    )
    .unwrap();
    let keys = key_filters(&(Arc::new(case) as Arc<dyn PhysicalExpr>), 100);
    assert_eq!(keys.keys, Some(3));
}

#[test]
fn unknown_shapes_push_nothing() {
    let is_null: Arc<dyn PhysicalExpr> = Arc::new(px::IsNullExpr::new(key()));
    let either: Arc<dyn PhysicalExpr> = Arc::new(BinaryExpr::new(is_null, Operator::Or, in_list(&["a"])));
    let keys = key_filters(&either, 100);
    assert_eq!(keys.keys, None);
    assert!(keys.filters.is_empty());
    assert_eq!(key_filters(&px::lit(true), 100).filters, Vec::new());
}

use super::*;
use datafusion::common::{Column, ScalarValue};
use datafusion::logical_expr::expr::Placeholder;

fn action(name: &str) -> &'static ActionDef {
    crate::catalog::builtin().action(name).expect("action in catalog")
}

fn text(s: &str) -> Expr {
    lit(ScalarValue::Utf8(Some(s.into())))
}

#[test]
fn id_then_json_object() {
    let args = parse(action("capture_payment_intent"), &[text("pi_1"), text(r#"{"amount_to_capture": 500}"#)]).unwrap();
    assert!(matches!(&args.ids, Ids::One(id) if id == "pi_1"));
    assert_eq!(Value::Object(args.body), serde_json::json!({"amount_to_capture": 500}));
}

#[test]
fn array_of_ids_is_the_bulk_form() {
    let list = ScalarValue::List(ScalarValue::new_list_nullable(
        &[ScalarValue::Utf8(Some("pi_1".into())), ScalarValue::Utf8(Some("pi_2".into()))],
        &DataType::Utf8,
    ));
    let args = parse(action("cancel_payment_intent"), &[lit(list)]).unwrap();
    assert!(matches!(&args.ids, Ids::Many(ids) if ids == &["pi_1", "pi_2"]));
}

#[test]
fn required_params_are_enforced() {
    let err = parse(action("attach_payment_method"), &[text("pm_1")]).unwrap_err().to_string();
    assert!(err.contains("attach_payment_method needs customer"), "{err}");
}

#[test]
fn column_and_placeholder_arguments_are_refused() {
    let col = Expr::Column(Column::new(Some("p"), "id"));
    let err = parse(action("cancel_payment_intent"), &[col]).unwrap_err().to_string();
    assert!(err.contains("p.id is a column reference") && err.contains("(SELECT id FROM"), "{err}");
    let ph = Expr::Placeholder(Placeholder::new_with_field("$1".into(), None));
    let err = parse(action("cancel_payment_intent"), &[ph]).unwrap_err().to_string();
    assert!(err.contains("$1 is a bind parameter"), "{err}");
}

#[test]
fn ids_must_be_stripe_ids() {
    let err = parse(action("cancel_payment_intent"), &[text("pi_1/../../v1/customers")]).unwrap_err().to_string();
    assert!(err.contains("is not a stripe id"), "{err}");
    let err = parse(action("cancel_payment_intent"), &[]).unwrap_err().to_string();
    assert!(err.contains("needs the object's id") && err.contains("pi_…"), "{err}");
}

#[test]
fn positional_params_are_refused_and_id_param_is_not_a_param() {
    let err = parse(action("attach_payment_method"), &[text("pm_1"), text("cus_1")]).unwrap_err().to_string();
    assert!(err.contains("must be a named parameter"), "{err}");
    let err = parse(action("refund_charge"), &[text("ch_1"), text(r#"{"charge": "ch_2"}"#)]).unwrap_err().to_string();
    assert!(err.contains("charge is the first argument"), "{err}");
}

#[test]
fn the_id_may_be_named_too() {
    let fields = datafusion::arrow::array::StructArray::from(vec![
        (
            std::sync::Arc::new(datafusion::arrow::datatypes::Field::new("id", DataType::Utf8, true)),
            std::sync::Arc::new(datafusion::arrow::array::StringArray::from(vec!["pi_9"]))
                as datafusion::arrow::array::ArrayRef,
        ),
        (
            std::sync::Arc::new(datafusion::arrow::datatypes::Field::new("amount_to_capture", DataType::Int64, true)),
            std::sync::Arc::new(datafusion::arrow::array::Int64Array::from(vec![5]))
                as datafusion::arrow::array::ArrayRef,
        ),
    ]);
    let args =
        parse(action("capture_payment_intent"), &[lit(ScalarValue::Struct(std::sync::Arc::new(fields)))]).unwrap();
    assert!(matches!(&args.ids, Ids::One(id) if id == "pi_9"));
    assert_eq!(Value::Object(args.body), serde_json::json!({"amount_to_capture": 5}));
}

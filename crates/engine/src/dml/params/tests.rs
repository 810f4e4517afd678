use serde_json::json;

use super::*;
use crate::catalog;

fn customers_create() -> &'static WriteDef {
    catalog::builtin().table("customers").unwrap().create.as_ref().unwrap()
}

#[test]
fn read_only_and_unknown_raw_params_name_the_column() {
    let mut p = Map::new();
    let e =
        add_column(&mut p, customers_create(), "insert into customers", "created", Some(json!(1)), NullMeaning::Omit);
    assert!(e.unwrap_err().to_string().contains("column created is read-only"));
    let e = add_column(
        &mut p,
        customers_create(),
        "insert into customers",
        "_raw",
        Some(json!("{\"bogus\": 1}")),
        NullMeaning::Omit,
    );
    assert!(e.unwrap_err().to_string().contains("unknown parameter bogus"));
    assert!(p.is_empty());
}

#[test]
fn json_text_and_maps_become_nested_params() {
    let mut p = Map::new();
    let w = customers_create();
    add_column(&mut p, w, "x", "address", Some(json!("{\"city\": \"Paris\"}")), NullMeaning::Omit).unwrap();
    add_column(&mut p, w, "x", "metadata", Some(json!({"a": "1", "b": null})), NullMeaning::Omit).unwrap();
    add_column(&mut p, w, "x", "email", None, NullMeaning::Omit).unwrap();
    add_column(&mut p, w, "x", "_raw", Some(json!("{\"payment_method\": \"pm_1\"}")), NullMeaning::Omit).unwrap();
    assert_eq!(
        Value::Object(p),
        json!({"address": {"city": "Paris"}, "metadata": {"a": "1"}, "payment_method": "pm_1"})
    );
}

#[test]
fn wrong_types_and_bad_json_are_refused() {
    let w = customers_create();
    let mut p = Map::new();
    let e = add_column(&mut p, w, "x", "address", Some(json!("not json")), NullMeaning::Omit).unwrap_err();
    assert!(e.to_string().contains("column address expects a JSON object"), "{e}");
    let e =
        add_column(&mut p, w, "x", "address", Some(json!("{\"planet\": \"mars\"}")), NullMeaning::Omit).unwrap_err();
    assert!(e.to_string().contains("unknown field planet"), "{e}");
    let e = add_column(&mut p, w, "x", "balance", Some(json!("ten")), NullMeaning::Omit).unwrap_err();
    assert!(e.to_string().contains("column balance expects a whole number"), "{e}");
    let e = add_column(&mut p, w, "x", "tax_exempt", Some(json!("maybe")), NullMeaning::Omit).unwrap_err();
    assert!(e.to_string().contains("column tax_exempt"), "{e}");
}

#[test]
fn update_nulls_unset_only_where_stripe_allows() {
    let update = catalog::builtin().table("customers").unwrap().update.as_ref().unwrap();
    let mut p = Map::new();
    add_column(&mut p, update, "u", "metadata", Some(json!({"gone": null, "kept": "v"})), NullMeaning::Unset).unwrap();
    add_column(&mut p, update, "u", "address", None, NullMeaning::Unset).unwrap();
    assert_eq!(Value::Object(p.clone()), json!({"metadata": {"gone": "", "kept": "v"}, "address": ""}));
    let e = add_column(&mut p, update, "u", "email", None, NullMeaning::Unset).unwrap_err();
    assert!(e.to_string().contains("column email cannot be set to NULL"), "{e}");
}

#[test]
fn required_params_are_checked() {
    let prices = catalog::builtin().table("prices").unwrap().create.as_ref().unwrap();
    let e = check_required(&Map::new(), prices, "insert into prices", 1).unwrap_err();
    assert!(e.to_string().contains("missing required column currency"), "{e}");
}

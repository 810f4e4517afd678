//! Unit tests of the decoder: one column of each type, projections, parents.

use datafusion::arrow::array::{Array, AsArray, MapArray};
use datafusion::arrow::datatypes::{Int64Type, TimestampSecondType};
use serde_json::json;

use super::*;
use crate::catalog::{ColumnDef, ColumnType, ParentDef, TableDef};
use crate::stripe::RawObjects;

fn col(name: &str, ty: ColumnType) -> ColumnDef {
    ColumnDef { name: name.into(), ty, source: vec![], expandable: false, enum_values: vec![] }
}

fn table() -> TableDef {
    let mut customer = col("customer", ColumnType::Utf8);
    customer.expandable = true;
    let mut country = col("country", ColumnType::Utf8);
    country.source = vec!["address".into(), "country".into()];
    TableDef {
        name: "things".into(),
        object: "thing".into(),
        list_path: "/v1/parents/{invoice}/things".into(),
        retrieve_path: None,
        search: None,
        parent: Some(ParentDef { column: "invoice".into(), path_param: "invoice".into() }),
        id_prefix: None,
        columns: vec![
            col("id", ColumnType::Utf8),
            col("invoice", ColumnType::Utf8),
            col("amount", ColumnType::Int64),
            col("created", ColumnType::Timestamp),
            col("rate", ColumnType::Float64),
            col("paid", ColumnType::Boolean),
            customer,
            col("metadata", ColumnType::StringMap),
            col("tags", ColumnType::StringList),
            col("address", ColumnType::Json),
            country,
            col("_raw", ColumnType::Json),
        ],
        list_filters: vec![],
        create: None,
        update: None,
        delete: None,
        delete_hint: None,
        paginated: true,
    }
}

fn objects() -> Vec<Value> {
    vec![
        json!({"id": "t_1", "amount": 500, "created": 1700000000, "rate": 1.5, "paid": true,
               "customer": {"id": "cus_1", "object": "customer"}, "metadata": {"k": "v", "n": "2"},
               "tags": ["a", "b"], "address": {"country": "FR", "city": null}}),
        json!({"id": "t_2", "amount": null, "customer": "cus_2", "metadata": {}, "address": null}),
    ]
}

#[test]
fn every_type_decodes_and_matches_the_schema() {
    let t = table();
    let d = Decoder::new(&t, None);
    let batch = d.decode_with_implied(&objects(), &[("invoice".to_string(), "in_9".to_string())]).unwrap();
    assert_eq!(batch.schema(), t.arrow_schema());
    assert_eq!(batch.num_rows(), 2);
    let s = |i: usize| batch.column(i).as_string::<i32>().clone();
    assert_eq!(s(1).value(0), "in_9", "parent fills the missing parent column");
    assert_eq!(batch.column(2).as_primitive::<Int64Type>().value(0), 500);
    assert!(batch.column(2).is_null(1));
    assert_eq!(batch.column(3).as_primitive::<TimestampSecondType>().value(0), 1_700_000_000);
    assert!(batch.column(3).is_null(1));
    assert_eq!(s(6).value(0), "cus_1", "expanded reference becomes its id");
    assert_eq!(s(6).value(1), "cus_2");
    let map = batch.column(7).as_any().downcast_ref::<MapArray>().unwrap();
    assert_eq!(map.value(0).len(), 2);
    assert_eq!(map.value(1).len(), 0);
    assert!(!map.is_null(1), "an empty map is not NULL");
    assert_eq!(batch.column(8).as_list::<i32>().value(0).len(), 2);
    assert!(batch.column(8).is_null(1));
    assert_eq!(s(9).value(0), r#"{"country":"FR","city":null}"#);
    assert!(batch.column(9).is_null(1));
    assert_eq!(s(10).value(0), "FR", "promoted nested field");
    let raw: Value = serde_json::from_str(s(11).value(1)).unwrap();
    assert_eq!(raw, objects()[1]);
}

#[test]
fn projection_keeps_only_the_chosen_columns_in_order() {
    let t = table();
    let d = Decoder::new(&t, Some(&[3, 0]));
    assert_eq!(d.schema().field(0).name(), "created");
    let batch = d.decode(&objects()).unwrap();
    assert_eq!(batch.num_columns(), 2);
    assert_eq!(batch.column(1).as_string::<i32>().value(1), "t_2");
}

#[test]
fn empty_projection_still_counts_rows() {
    let batch = Decoder::new(&table(), Some(&[])).decode(&objects()).unwrap();
    assert_eq!((batch.num_columns(), batch.num_rows()), (0, 2));
}

#[test]
fn without_parent_value_missing_parent_is_null() {
    let batch = Decoder::new(&table(), Some(&[1])).decode(&objects()).unwrap();
    assert!(batch.column(0).is_null(0));
}

/// The objects as the JSON text of a response: compact, or pretty-printed as Stripe sends it.
fn as_text(objects: &[Value], pretty: bool) -> RawObjects {
    let texts: Vec<String> =
        objects.iter().map(|o| if pretty { serde_json::to_string_pretty(o).unwrap() } else { o.to_string() }).collect();
    let body = format!(r#"{{"object": "list", "data": [{}], "has_more": false}}"#, texts.join(",\n"));
    crate::stripe::RawPage::parse(body.as_bytes()).unwrap().objects
}

#[test]
fn text_and_value_paths_give_the_same_batch() {
    let t = table();
    let implied = [("invoice".to_string(), "in_9".to_string())];
    let all: Vec<usize> = (0..t.columns.len()).collect();
    for projection in [all.clone(), vec![10, 9], vec![10], vec![11, 0], vec![5, 1], vec![]] {
        let d = Decoder::new(&t, Some(&projection));
        let expected = d.decode_with_implied(&objects(), &implied).unwrap();
        for pretty in [false, true] {
            let batch = d.decode_raw(&as_text(&objects(), pretty), &implied).unwrap();
            assert_eq!(batch, expected, "projection {projection:?}, pretty {pretty}");
        }
    }
}

#[test]
fn text_path_handles_escapes_repeats_and_non_objects() {
    let t = table();
    let d = Decoder::new(&t, None);
    let body = r#"{"data": [
        {"\u0069d": "t_\u00e9", "amount": 1, "amount": 2, "rate": "2.5", "paid": "yes", "customer": 7,
         "address": {"country": "F\"R"}, "tags": ["a", 1, null, {"x": 1}]},
        [1, 2],
        {"id": "t_3", "amount": 18446744073709551615, "created": 1.7e9, "address": "text", "metadata": {"n": 2, "b": true}}
    ], "has_more": false}"#;
    let objects = crate::stripe::RawPage::parse(body.as_bytes()).unwrap().objects;
    let batch = d.decode_raw(&objects, &[]).unwrap();
    assert_eq!(batch.num_rows(), 3);
    let s = |i: usize| batch.column(i).as_string::<i32>().clone();
    assert_eq!(s(0).value(0), "t_é", "escaped key and value");
    assert_eq!(batch.column(2).as_primitive::<Int64Type>().value(0), 1, "a repeated key keeps its first value");
    assert_eq!(batch.column(4).as_primitive::<datafusion::arrow::datatypes::Float64Type>().value(0), 2.5);
    assert!(batch.column(5).is_null(0), "a non-boolean is NULL, not an error");
    assert_eq!(s(6).value(0), "7", "a number in a text column is its text");
    assert_eq!(s(9).value(0), r#"{"country":"F\"R"}"#);
    assert_eq!(s(10).value(0), "F\"R", "promoted from the same key as a JSON column");
    let tags = batch.column(8).as_list::<i32>().value(0);
    assert_eq!(tags.as_string::<i32>().iter().collect::<Vec<_>>(), [Some("a"), Some("1"), None, Some(r#"{"x":1}"#)]);
    assert!((0..11).all(|i| batch.column(i).is_null(1)), "a non-object is a row of NULLs");
    assert_eq!(s(11).value(1), "[1,2]", "its _raw is kept");
    assert!(batch.column(2).is_null(2), "an integer beyond i64 is NULL");
    assert_eq!(batch.column(3).as_primitive::<TimestampSecondType>().value(2), 1_700_000_000);
    assert_eq!(s(9).value(2), r#""text""#, "a string in a JSON column is a JSON string");
    assert!(batch.column(10).is_null(2), "no path inside a string");
    let map = batch.column(7).as_any().downcast_ref::<MapArray>().unwrap().value(2);
    assert_eq!(map.column(1).as_string::<i32>().iter().collect::<Vec<_>>(), [Some("2"), Some("true")]);
}

#[test]
fn several_paths_under_one_key_are_read_in_one_walk() {
    let mut t = table();
    let nested = |name: &str, path: &[&str]| {
        let mut c = col(name, ColumnType::Utf8);
        c.source = path.iter().map(|s| s.to_string()).collect();
        c
    };
    t.columns = vec![
        col("payment_method_details", ColumnType::Json),
        nested("brand", &["payment_method_details", "card", "brand"]),
        nested("last4", &["payment_method_details", "card", "last4"]),
        nested("kind", &["payment_method_details", "type"]),
        nested("deep", &["payment_method_details", "card", "checks", "cvc"]),
    ];
    let objects = vec![
        json!({"payment_method_details": {"card": {"brand": "visa", "checks": {"cvc": "pass"}, "last4": "4242"}, "type": "card"}}),
        json!({"payment_method_details": {"type": "sepa_debit", "sepa_debit": {"last4": "3000"}}}),
        json!({"payment_method_details": {"card": "not an object", "type": null}}),
        json!({"id": "no details"}),
    ];
    let d = Decoder::new(&t, None);
    let batch = d.decode_raw(&as_text(&objects, true), &[]).unwrap();
    assert_eq!(batch, d.decode(&objects).unwrap());
    let s = |i: usize| batch.column(i).as_string::<i32>().iter().map(|v| v.map(str::to_owned)).collect::<Vec<_>>();
    let v = |x: &str| Some(x.to_string());
    assert_eq!(s(1), [v("visa"), None, None, None]);
    assert_eq!(s(2), [v("4242"), None, None, None]);
    assert_eq!(s(3), [v("card"), v("sepa_debit"), None, None]);
    assert_eq!(s(4), [v("pass"), None, None, None]);
}

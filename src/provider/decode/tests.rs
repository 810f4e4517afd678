//! Unit tests of the decoder: one column of each type, projections, parents.

use datafusion::arrow::array::{Array, AsArray, MapArray};
use datafusion::arrow::datatypes::{Int64Type, TimestampSecondType};
use serde_json::json;

use super::*;
use crate::catalog::{ColumnDef, ColumnType, ParentDef, TableDef};

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

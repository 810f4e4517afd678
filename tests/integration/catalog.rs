//! Catalog tests: the committed catalog against the OpenAPI spec and fixtures,
//! its invariants, the listing batches, and that it is up to date.

use std::path::PathBuf;

use datafusion::arrow::array::{Array, AsArray};
use serde_json::Value;
use stripe_sql::catalog::listing::{columns_batch, tables_batch};
use stripe_sql::catalog::{ColumnType, TableDef, builtin};
use stripe_sql::decode::Decoder;

/// `stripe-openapi/<file>` from `$STRIPE_SQL_SHARED`, `../shared` beside the
/// repository, or `/work/shared` (where the project's machines keep it). A
/// missing file fails the test unless `STRIPE_SQL_SKIP_SPEC_CHECK=1` says to
/// skip it, so the check never goes quiet by accident.
fn shared_file(file: &str) -> Option<Value> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("STRIPE_SQL_SHARED").map(PathBuf::from).into_iter().collect();
    dirs.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    dirs.push(PathBuf::from("/work/shared"));
    let found = dirs.iter().map(|d| d.join("stripe-openapi").join(file)).find(|p| p.exists());
    let Some(path) = found else {
        assert!(
            std::env::var("STRIPE_SQL_SKIP_SPEC_CHECK").is_ok_and(|v| v == "1"),
            "stripe-openapi/{file} not found in {dirs:?}; set STRIPE_SQL_SHARED or STRIPE_SQL_SKIP_SPEC_CHECK=1"
        );
        return None;
    };
    Some(serde_json::from_str(&std::fs::read_to_string(path).ok()?).expect("shared json parses"))
}

fn spec() -> Option<Value> {
    shared_file("spec3.json")
}

const CHECKED: &[&str] = &[
    "customers",
    "payment_intents",
    "charges",
    "refunds",
    "prices",
    "subscriptions",
    "balance_transactions",
    "products",
    "invoices",
    "invoice_items",
    "payment_methods",
    "quotes",
    "coupons",
    "events",
    "disputes",
    "payouts",
];

#[test]
fn catalog_has_enough_unique_tables_and_actions() {
    let c = builtin();
    assert!(c.tables.len() >= 65, "only {} tables", c.tables.len());
    assert!(c.tables.windows(2).all(|w| w[0].name < w[1].name), "table names sorted and unique");
    assert!(c.actions.windows(2).all(|w| w[0].name < w[1].name), "action names sorted and unique");
    for name in CHECKED {
        assert!(c.table(name).is_some(), "missing table {name}");
    }
    for t in &c.tables {
        assert_eq!(t.columns.first().map(|c| c.name.as_str()), Some("id"), "{} starts with id", t.name);
        assert_eq!(t.columns.last().map(|c| c.name.as_str()), Some("_raw"), "{} ends with _raw", t.name);
        let mut names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        assert!(names.windows(2).all(|w| w[0] != w[1]), "{} has duplicate columns", t.name);
    }
}

#[test]
fn created_is_a_timestamp_and_amount_an_integer_everywhere() {
    for t in &builtin().tables {
        if let Some(c) = t.column("created") {
            assert_eq!(c.ty, ColumnType::Timestamp, "{}.created", t.name);
        }
        if let Some(c) = t.column("amount") {
            assert_eq!(c.ty, ColumnType::Int64, "{}.amount", t.name);
        }
    }
}

#[test]
fn nested_tables_have_a_parent_filter_on_a_column() {
    let c = builtin();
    for t in &c.tables {
        let nested = t.list_path.contains('{');
        if nested {
            assert!(t.parent.is_some(), "{} is nested but has no parent", t.name);
        }
        if let Some(p) = &t.parent {
            let column =
                t.column(&p.column).unwrap_or_else(|| panic!("{}: parent column {} missing", t.name, p.column));
            // The parent key is an id: as text it takes `= '…'` and `IN (…)`,
            // which is how a nested table is read at all. (An app secret's
            // scope is an object, `scope[type]=account`, not an id.)
            if t.name != "apps_secrets" {
                assert_eq!(column.ty, ColumnType::Utf8, "{}: parent column {} is not text", t.name, p.column);
            }
            let f = t.filter(&p.path_param).unwrap_or_else(|| panic!("{}: no filter {}", t.name, p.path_param));
            assert_eq!(f.column.as_deref(), Some(p.column.as_str()));
            assert_eq!(nested, t.list_path.contains(&format!("{{{}}}", p.path_param)));
        }
    }
    let items = c.table("subscription_items").unwrap();
    assert_eq!(items.parent.as_ref().unwrap().column, "subscription");
    assert_eq!(c.table("invoice_lines").unwrap().list_path, "/v1/invoices/{invoice}/lines");
    assert_eq!(c.table("invoice_items").unwrap().list_path, "/v1/invoiceitems");
}

/// The column type a spec property must have, decided independently of the generator.
fn expected_type(prop: &Value) -> Option<(ColumnType, bool)> {
    if let Some(vs) = prop["anyOf"].as_array() {
        let id = vs.iter().any(|v| v["type"] == "string" && v.get("enum").is_none());
        let obj = vs.iter().any(|v| v.get("$ref").is_some());
        return (id && obj).then_some((ColumnType::Utf8, true));
    }
    match prop["type"].as_str()? {
        "integer" if prop["format"] == "unix-time" => Some((ColumnType::Timestamp, false)),
        "integer" => Some((ColumnType::Int64, false)),
        "number" => Some((ColumnType::Float64, false)),
        "boolean" => Some((ColumnType::Boolean, false)),
        "string" => Some((ColumnType::Utf8, false)),
        "object" if prop["additionalProperties"]["type"] == "string" => Some((ColumnType::StringMap, false)),
        "array" if prop["items"]["type"] == "string" => Some((ColumnType::StringList, false)),
        _ => None,
    }
}

#[test]
fn schemas_of_main_tables_match_the_spec() {
    let Some(spec) = spec() else { return };
    for name in CHECKED {
        let t = builtin().table(name).unwrap();
        let get = &spec["paths"][&t.list_path]["get"];
        let list = &get["responses"]["200"]["content"]["application/json"]["schema"];
        let item_ref = list["properties"]["data"]["items"]["$ref"].as_str().expect("single item schema");
        let schema = &spec["components"]["schemas"][item_ref.rsplit('/').next().unwrap()];
        let props = schema["properties"].as_object().unwrap();
        for (field, prop) in props {
            let col = t.column(field).unwrap_or_else(|| panic!("{name}: no column for spec field {field}"));
            if let Some((ty, expandable)) = expected_type(prop) {
                let ty = if field == "created" { ColumnType::Timestamp } else { ty };
                assert_eq!((col.ty, col.expandable), (ty, expandable), "{name}.{field}");
            } else {
                assert_eq!(col.ty, ColumnType::Json, "{name}.{field} is nested");
            }
        }
        assert_eq!(t.columns.len(), props.len() + 1 + promoted(t), "{name}: extra columns");
    }
}

fn promoted(t: &TableDef) -> usize {
    t.columns.iter().filter(|c| !c.source.is_empty()).count()
}

#[test]
fn every_fixture_decodes_into_its_tables_without_loss() {
    let Some(fixtures) = shared_file("fixtures3.json") else { return };
    let mut decoded = 0;
    for (key, object) in fixtures["resources"].as_object().unwrap() {
        // `deleted_x` stubs share `object` with x but are DELETE responses, never list rows.
        let Some(kind) = object["object"].as_str().filter(|_| object.get("deleted").is_none()) else { continue };
        for t in builtin().tables.iter().filter(|t| t.object.split('|').any(|o| o == kind)) {
            let decoder = Decoder::new(t, None);
            let batch = decoder.decode(std::slice::from_ref(object)).unwrap();
            // The scan path decodes the response text (pretty-printed, as Stripe sends it).
            let body = format!(r#"{{"data": [{}], "has_more": false}}"#, serde_json::to_string_pretty(object).unwrap());
            let page = stripe_sql::stripe::RawPage::parse(body.as_bytes()).unwrap();
            assert_eq!(
                decoder.decode_raw(&page.objects, &[]).unwrap(),
                batch,
                "{key} in {}: text and value decoding differ",
                t.name
            );
            for (field, value) in object.as_object().unwrap() {
                let i = t.column_index(field).unwrap_or_else(|| panic!("{key} in {}: no column {field}", t.name));
                assert_eq!(batch.column(i).is_null(0), value.is_null(), "{key} in {}: {field}", t.name);
            }
            let raw = batch.column(t.columns.len() - 1).as_string::<i32>().value(0);
            assert_eq!(&serde_json::from_str::<Value>(raw).unwrap(), object, "{key}: _raw round-trips");
            decoded += 1;
        }
    }
    assert!(decoded >= 80, "only {decoded} fixture/table pairs decoded");
}

#[test]
fn search_actions_and_deletes_follow_the_overrides() {
    let c = builtin();
    let searchable: Vec<&str> = c.tables.iter().filter(|t| t.search.is_some()).map(|t| t.name.as_str()).collect();
    assert_eq!(
        searchable,
        ["charges", "customers", "invoices", "payment_intents", "prices", "products", "subscriptions"]
    );
    let cap = c.action("capture_payment_intent").unwrap();
    assert_eq!(
        (cap.path.as_str(), cap.result_table.as_deref()),
        ("/v1/payment_intents/{id}/capture", Some("payment_intents"))
    );
    let refund = c.action("refund_charge").unwrap();
    assert_eq!((refund.path.as_str(), refund.id_param.as_deref()), ("/v1/refunds", Some("charge")));
    assert_eq!(c.action("cancel_subscription").unwrap().method, "DELETE");
    assert!(c.action("attach_payment_method").unwrap().params.iter().any(|p| p.name == "customer" && p.required));
    let subs = c.table("subscriptions").unwrap();
    assert_eq!(subs.delete.as_ref().unwrap().meaning, stripe_sql::catalog::DeleteMeaning::Cancel);
    assert!(c.table("prices").unwrap().delete_hint.as_ref().unwrap().contains("active = false"));
    let price_create = c.table("prices").unwrap().create.as_ref().unwrap();
    assert!(price_create.params.iter().any(|p| p.name == "currency" && p.required));
    assert!(
        c.table("customers")
            .unwrap()
            .update
            .as_ref()
            .unwrap()
            .params
            .iter()
            .any(|p| p.name == "metadata" && p.unsettable)
    );
}

#[test]
fn listing_batches_describe_tables_and_columns() {
    let c = builtin();
    let batch = tables_batch(c);
    assert_eq!(batch.num_rows(), c.tables.len());
    let names = batch.column(0).as_string::<i32>();
    let row = (0..batch.num_rows()).find(|&i| names.value(i) == "customers").unwrap();
    let filters = batch.column(6).as_string::<i32>().value(row);
    assert!(filters.contains("created(range)") && filters.contains("email(eq)"), "{filters}");
    let pi = (0..batch.num_rows()).find(|&i| names.value(i) == "payment_intents").unwrap();
    assert!(batch.column(10).as_string::<i32>().value(pi).contains("capture_payment_intent"));

    let cols = columns_batch(c.table("customers").unwrap());
    let col_names = cols.column(0).as_string::<i32>();
    let created = (0..cols.num_rows()).find(|&i| col_names.value(i) == "created").unwrap();
    assert_eq!(cols.column(1).as_string::<i32>().value(created), "timestamptz");
    assert_eq!(cols.column(2).as_string::<i32>().value(created), "Timestamp(s, \"UTC\")");
    assert_eq!(cols.column(3).as_string::<i32>().value(created), "range");
    assert_eq!(cols.column(4).as_string::<i32>().value(created), "timestamp");
    let email = (0..cols.num_rows()).find(|&i| col_names.value(i) == "email").unwrap();
    assert!(cols.column(5).as_boolean().value(email) && cols.column(6).as_boolean().value(email));
}

#[test]
fn the_emulator_knows_exactly_the_catalogs_event_types() {
    let emulator: std::collections::BTreeSet<String> =
        stripe_emulator::events::STRIPE_EVENT_TYPES.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect();
    let catalog = stripe_sql::catalog::event_types();
    assert!(catalog.len() > 100, "only {} event types in the catalog", catalog.len());
    let only_emulator: Vec<_> = emulator.difference(catalog).collect();
    let only_catalog: Vec<_> = catalog.difference(&emulator).collect();
    assert!(
        only_emulator.is_empty() && only_catalog.is_empty(),
        "crates/emulator/src/event_types.txt drifted: only there {only_emulator:?}; only in the catalog {only_catalog:?}"
    );
    assert!(stripe_emulator::events::is_stripe_event_type("customer.created"));
    assert!(!stripe_emulator::events::is_stripe_event_type("customer.exploded"));
}

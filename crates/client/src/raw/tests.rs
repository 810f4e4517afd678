use serde_json::json;

use super::*;

const BODY: &str = r#"{
  "object": "list",
  "data": [
    {"id": "ch_2", "created": 20, "amount": 5, "nested": {"a": [1, 2]}},
    {"id": "ch_1", "created": 10, "deleted": true}
  ],
  "has_more": true,
  "url": "/v1/charges"
}"#;

#[test]
fn a_list_page_is_split_into_object_spans() {
    let page = RawPage::parse(BODY.as_bytes()).unwrap();
    assert!(page.has_more);
    assert_eq!(page.objects.len(), 2);
    assert_eq!(page.objects.get(0), r#"{"id":"ch_2","created":20,"amount":5,"nested":{"a":[1,2]}}"#, "compacted");
    let head = page.objects.head(1);
    assert_eq!((head.id(), head.created(), head.deleted()), (Some("ch_1"), Some(10), true));
    assert!(!page.objects.head(0).deleted());
    let values = page.to_page().unwrap();
    assert_eq!(values.data[0], json!({"id": "ch_2", "created": 20, "amount": 5, "nested": {"a": [1, 2]}}));
}

#[test]
fn search_pages_keep_next_page() {
    let body = br#"{"object":"search_result","data":[{"id":"a"}],"has_more":true,"next_page":"tok"}"#;
    let page = RawPage::parse(body).unwrap().to_search_page().unwrap();
    assert_eq!(page.next_page.as_deref(), Some("tok"));
    assert_eq!(page.page.data.len(), 1);
    let last = br#"{"object":"search_result","data":[],"has_more":false,"next_page":null}"#;
    assert_eq!(RawPage::parse(last).unwrap().next_page, None);
}

#[test]
fn garbled_bodies_are_syntax_errors_and_wrong_shapes_data_errors() {
    use serde_json::error::Category;
    for garbled in [&b"{\"data\": [{\"id\": "[..], b"<html>", b"", b"{\"data\": [\xff]}"] {
        let e = RawPage::parse(garbled).unwrap_err();
        assert!(matches!(e.classify(), Category::Syntax | Category::Eof), "{garbled:?}: {e}");
    }
    for wrong in [&br#"{"data": {}, "has_more": false}"#[..], br#"{"data": []}"#, br#"{"data": [], "has_more": "no"}"#]
    {
        let e = RawPage::parse(wrong).unwrap_err();
        assert_eq!(e.classify(), Category::Data, "{wrong:?}: {e}");
    }
}

#[test]
fn a_retrieve_is_one_object_and_values_round_trip() {
    let one = RawObjects::single(br#" {"id": "cus_1", "created": "x"} "#).unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(one.head(0).created(), None);
    let values = vec![json!({"id": "a", "n": 1}), json!({"id": "b"})];
    let mut raw = RawObjects::from_values(&values);
    assert_eq!(raw.to_values().unwrap(), values);
    raw.retain(|text| text.contains("\"b\""));
    assert_eq!(raw.to_values().unwrap(), vec![json!({"id": "b"})]);
    raw.truncate(0);
    assert!(raw.is_empty());
    // Not an object: no head, not an error.
    assert_eq!(RawObjects::single(b"[1]").unwrap().head(0).id(), None);
}

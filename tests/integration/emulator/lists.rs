//! Every list filter really filters (compared with filtering the full list), pagination
//! returns every object once in both directions, and search works.

use super::support::{Api, demo, ids};
use serde_json::Value;
use std::collections::HashSet;

type Pred = Box<dyn Fn(&Value) -> bool>;

/// Lists `path` with `params` and checks the result equals the full list filtered by
/// `pred` (same ids, same order), and that the filter keeps some but not all objects.
async fn check_filter(api: &Api, path: &str, base: &[(&str, &str)], params: &[(&str, &str)], pred: Pred) {
    let full = api.list_all(path, base).await;
    let expected: Vec<String> = ids(&full.iter().filter(|v| pred(v)).cloned().collect::<Vec<_>>());
    let mut q = base.to_vec();
    q.extend_from_slice(params);
    let got = ids(&api.list_all(path, &q).await);
    assert_eq!(got, expected, "{path} {params:?} returned the wrong objects");
    assert!(!expected.is_empty(), "{path} {params:?}: the demo data has no match, so the test proves nothing");
    assert!(expected.len() < full.len(), "{path} {params:?}: every object matches, so the test proves nothing");
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

#[tokio::test]
async fn every_list_filter_filters() {
    let api = Api::new(demo());
    let customers = api.list_all("/v1/customers", &[]).await;
    let mid = customers[customers.len() / 2]["created"].as_i64().unwrap();
    let midt = mid.to_string();
    let email = s(&customers[3]["email"]);
    check_filter(
        &api,
        "/v1/customers",
        &[],
        &[("created[gte]", &midt)],
        Box::new(move |v| v["created"].as_i64().unwrap() >= mid),
    )
    .await;
    check_filter(
        &api,
        "/v1/customers",
        &[],
        &[("created[gt]", &midt)],
        Box::new(move |v| v["created"].as_i64().unwrap() > mid),
    )
    .await;
    check_filter(
        &api,
        "/v1/customers",
        &[],
        &[("created[lt]", &midt)],
        Box::new(move |v| v["created"].as_i64().unwrap() < mid),
    )
    .await;
    check_filter(
        &api,
        "/v1/customers",
        &[],
        &[("created[lte]", &midt)],
        Box::new(move |v| v["created"].as_i64().unwrap() <= mid),
    )
    .await;
    check_filter(
        &api,
        "/v1/customers",
        &[],
        &[("created", &midt)],
        Box::new(move |v| v["created"].as_i64().unwrap() == mid),
    )
    .await;
    let e2 = email.clone();
    check_filter(&api, "/v1/customers", &[], &[("email", &email)], Box::new(move |v| v["email"] == e2.as_str())).await;

    let charges = api.list_all("/v1/charges", &[]).await;
    let cus = s(&charges[10]["customer"]);
    let pi = s(&charges[10]["payment_intent"]);
    let ct = charges[500]["created"].as_i64().unwrap();
    let (c2, p2) = (cus.clone(), pi.clone());
    check_filter(&api, "/v1/charges", &[], &[("customer", &cus)], Box::new(move |v| v["customer"] == c2.as_str()))
        .await;
    check_filter(
        &api,
        "/v1/charges",
        &[],
        &[("payment_intent", &pi)],
        Box::new(move |v| v["payment_intent"] == p2.as_str()),
    )
    .await;
    check_filter(&api, "/v1/charges", &[], &[("created[lte]", &ct.to_string()), ("customer", &cus)], {
        let c3 = cus.clone();
        Box::new(move |v| v["created"].as_i64().unwrap() <= ct && v["customer"] == c3.as_str())
    })
    .await;
    let c4 = cus.clone();
    check_filter(
        &api,
        "/v1/payment_intents",
        &[],
        &[("customer", &cus)],
        Box::new(move |v| v["customer"] == c4.as_str()),
    )
    .await;

    let refunds = api.list_all("/v1/refunds", &[]).await;
    let rch = s(&refunds[0]["charge"]);
    let rpi = s(&refunds[0]["payment_intent"]);
    let r2 = rch.clone();
    check_filter(&api, "/v1/refunds", &[], &[("charge", &rch)], Box::new(move |v| v["charge"] == r2.as_str())).await;
    let r3 = rpi.clone();
    check_filter(
        &api,
        "/v1/refunds",
        &[],
        &[("payment_intent", &rpi)],
        Box::new(move |v| v["payment_intent"] == r3.as_str()),
    )
    .await;

    let prices = api.list_all("/v1/prices", &[]).await;
    let product = s(&prices[0]["product"]);
    let lk = prices.iter().find_map(|p| p["lookup_key"].as_str().map(String::from)).unwrap();
    check_filter(&api, "/v1/prices", &[], &[("active", "false")], Box::new(|v| v["active"] == false)).await;
    check_filter(&api, "/v1/prices", &[], &[("currency", "eur")], Box::new(|v| v["currency"] == "eur")).await;
    check_filter(&api, "/v1/prices", &[], &[("type", "recurring")], Box::new(|v| v["type"] == "recurring")).await;
    check_filter(
        &api,
        "/v1/prices",
        &[],
        &[("recurring[interval]", "year")],
        Box::new(|v| v["recurring"]["interval"] == "year"),
    )
    .await;
    let pr2 = product.clone();
    check_filter(&api, "/v1/prices", &[], &[("product", &product)], Box::new(move |v| v["product"] == pr2.as_str()))
        .await;
    let lk2 = lk.clone();
    check_filter(
        &api,
        "/v1/prices",
        &[],
        &[("lookup_keys[]", &lk)],
        Box::new(move |v| v["lookup_key"] == lk2.as_str()),
    )
    .await;

    check_filter(&api, "/v1/products", &[], &[("active", "true")], Box::new(|v| v["active"] == true)).await;
    check_filter(&api, "/v1/products", &[], &[("shippable", "true")], Box::new(|v| v["shippable"] == true)).await;
    check_filter(&api, "/v1/products", &[], &[("ids[]", &product)], {
        let p3 = product.clone();
        Box::new(move |v| v["id"] == p3.as_str())
    })
    .await;

    // Subscriptions: the default hides canceled ones; status=all shows them.
    let all = [("status", "all")];
    let default_list = ids(&api.list_all("/v1/subscriptions", &[]).await);
    let everything = api.list_all("/v1/subscriptions", &all).await;
    let not_canceled: Vec<String> =
        ids(&everything.iter().filter(|v| v["status"] != "canceled").cloned().collect::<Vec<_>>());
    assert_eq!(default_list, not_canceled, "the default subscription list must hide canceled subscriptions");
    assert!(not_canceled.len() < everything.len());
    for st in ["active", "canceled", "trialing", "past_due", "incomplete"] {
        let st2 = st.to_string();
        let got = ids(&api.list_all("/v1/subscriptions", &[("status", st)]).await);
        let want = ids(&everything.iter().filter(|v| v["status"] == st2.as_str()).cloned().collect::<Vec<_>>());
        assert_eq!(got, want, "subscriptions status={st}");
        assert!(!want.is_empty(), "no {st} subscriptions in the demo data");
    }
    let scus = s(&everything[0]["customer"]);
    let s2 = scus.clone();
    check_filter(
        &api,
        "/v1/subscriptions",
        &all,
        &[("customer", &scus)],
        Box::new(move |v| v["customer"] == s2.as_str()),
    )
    .await;
    let sprice = s(&everything[0]["items"]["data"][0]["price"]["id"]);
    let sp2 = sprice.clone();
    check_filter(
        &api,
        "/v1/subscriptions",
        &all,
        &[("price", &sprice)],
        Box::new(move |v| v["items"]["data"][0]["price"]["id"] == sp2.as_str()),
    )
    .await;
    check_filter(
        &api,
        "/v1/subscriptions",
        &all,
        &[("collection_method", "send_invoice")],
        Box::new(|v| v["collection_method"] == "send_invoice"),
    )
    .await;
    let cpe = everything[everything.len() / 2]["current_period_end"].as_i64().unwrap();
    check_filter(
        &api,
        "/v1/subscriptions",
        &all,
        &[("current_period_end[gt]", &cpe.to_string())],
        Box::new(move |v| v["current_period_end"].as_i64().unwrap() > cpe),
    )
    .await;

    let invoices = api.list_all("/v1/invoices", &[]).await;
    let icus = s(&invoices[0]["customer"]);
    let isub = invoices.iter().find_map(|i| i["subscription"].as_str().map(String::from)).unwrap();
    for st in ["draft", "open", "paid", "void", "uncollectible"] {
        let st2 = st.to_string();
        check_filter(&api, "/v1/invoices", &[], &[("status", st)], Box::new(move |v| v["status"] == st2.as_str()))
            .await;
    }
    let i2 = icus.clone();
    check_filter(&api, "/v1/invoices", &[], &[("customer", &icus)], Box::new(move |v| v["customer"] == i2.as_str()))
        .await;
    let i3 = isub.clone();
    check_filter(
        &api,
        "/v1/invoices",
        &[],
        &[("subscription", &isub)],
        Box::new(move |v| v["subscription"] == i3.as_str()),
    )
    .await;
    check_filter(
        &api,
        "/v1/invoices",
        &[],
        &[("collection_method", "send_invoice")],
        Box::new(|v| v["collection_method"] == "send_invoice"),
    )
    .await;
    let due = invoices.iter().filter_map(|i| i["due_date"].as_i64()).max().unwrap();
    check_filter(
        &api,
        "/v1/invoices",
        &[],
        &[("due_date[gte]", &due.to_string())],
        Box::new(move |v| v["due_date"].as_i64().is_some_and(|d| d >= due)),
    )
    .await;

    let items = api.list_all("/v1/invoiceitems", &[]).await;
    let ii_inv = items.iter().find_map(|i| i["invoice"].as_str().map(String::from)).unwrap();
    let ii_cus = s(&items[0]["customer"]);
    check_filter(&api, "/v1/invoiceitems", &[], &[("pending", "true")], Box::new(|v| v["invoice"].is_null())).await;
    let ii2 = ii_inv.clone();
    check_filter(
        &api,
        "/v1/invoiceitems",
        &[],
        &[("invoice", &ii_inv)],
        Box::new(move |v| v["invoice"] == ii2.as_str()),
    )
    .await;
    let ic2 = ii_cus.clone();
    check_filter(
        &api,
        "/v1/invoiceitems",
        &[],
        &[("customer", &ii_cus)],
        Box::new(move |v| v["customer"] == ic2.as_str()),
    )
    .await;

    let txns = api.list_all("/v1/balance_transactions", &[]).await;
    let src = s(&txns[3]["source"]);
    check_filter(&api, "/v1/balance_transactions", &[], &[("type", "refund")], Box::new(|v| v["type"] == "refund"))
        .await;
    let src2 = src.clone();
    check_filter(
        &api,
        "/v1/balance_transactions",
        &[],
        &[("source", &src)],
        Box::new(move |v| v["source"] == src2.as_str()),
    )
    .await;
    let payouts = api.list_all("/v1/payouts", &[]).await;
    let paid = payouts.iter().find(|p| p["status"] == "paid" && p["automatic"] == true).unwrap();
    let po = s(&paid["id"]);
    let paid_out = ids(&api.list_all("/v1/balance_transactions", &[("payout", &po)]).await);
    assert!(paid_out.len() > 1, "a weekly payout pays out several charges");
    let charge_txns: HashSet<String> =
        ids(&txns.iter().filter(|t| t["type"] == "charge").cloned().collect::<Vec<_>>()).into_iter().collect();
    assert!(paid_out.iter().filter(|t| charge_txns.contains(*t)).count() + 1 >= paid_out.len());
    check_filter(&api, "/v1/payouts", &[], &[("status", "paid")], Box::new(|v| v["status"] == "paid")).await;
    let arr = paid["arrival_date"].as_i64().unwrap();
    check_filter(
        &api,
        "/v1/payouts",
        &[],
        &[("arrival_date[lt]", &arr.to_string())],
        Box::new(move |v| v["arrival_date"].as_i64().unwrap() < arr),
    )
    .await;

    let pms = api.list_all("/v1/payment_methods", &[]).await;
    let pmc = s(&pms[0]["customer"]);
    let pm2 = pmc.clone();
    check_filter(
        &api,
        "/v1/payment_methods",
        &[],
        &[("customer", &pmc)],
        Box::new(move |v| v["customer"] == pm2.as_str()),
    )
    .await;

    for st in ["draft", "open", "accepted", "canceled"] {
        let st2 = st.to_string();
        check_filter(&api, "/v1/quotes", &[], &[("status", st)], Box::new(move |v| v["status"] == st2.as_str())).await;
    }
    let disputes = api.list_all("/v1/disputes", &[]).await;
    let dch = s(&disputes[0]["charge"]);
    let d2 = dch.clone();
    check_filter(&api, "/v1/disputes", &[], &[("charge", &dch)], Box::new(move |v| v["charge"] == d2.as_str())).await;
    let dpi = s(&disputes[0]["payment_intent"]);
    let d3 = dpi.clone();
    check_filter(
        &api,
        "/v1/disputes",
        &[],
        &[("payment_intent", &dpi)],
        Box::new(move |v| v["payment_intent"] == d3.as_str()),
    )
    .await;

    let coupons = api.list_all("/v1/coupons", &[]).await;
    let cc = coupons[1]["created"].as_i64().unwrap();
    check_filter(
        &api,
        "/v1/coupons",
        &[],
        &[("created[gte]", &cc.to_string())],
        Box::new(move |v| v["created"].as_i64().unwrap() >= cc),
    )
    .await;

    check_filter(
        &api,
        "/v1/events",
        &[],
        &[("type", "charge.succeeded")],
        Box::new(|v| v["type"] == "charge.succeeded"),
    )
    .await;
    check_filter(
        &api,
        "/v1/events",
        &[],
        &[("type", "payment_intent.*")],
        Box::new(|v| s(&v["type"]).starts_with("payment_intent.")),
    )
    .await;
    check_filter(
        &api,
        "/v1/events",
        &[],
        &[("types[]", "charge.refunded"), ("types[]", "customer.created")],
        Box::new(|v| v["type"] == "charge.refunded" || v["type"] == "customer.created"),
    )
    .await;
}

#[tokio::test]
async fn bad_list_params_are_rejected_like_stripe() {
    let api = Api::new(demo());
    let r = api.get("/v1/customers", &[("colour", "red")]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.err("type"), "invalid_request_error");
    assert_eq!(r.err("param"), "colour");
    assert_eq!(r.err("message"), "Received unknown parameter: colour");
    for (k, v) in [("limit", "0"), ("limit", "101"), ("limit", "ten"), ("created[around]", "1"), ("created", "soon")] {
        let r = api.get("/v1/charges", &[(k, v)]).await;
        assert_eq!(r.status, 400, "{k}={v}: {}", r.body);
    }
    let r = api.get("/v1/invoices", &[("status", "lost")]).await;
    assert_eq!((r.status, r.err("param").as_str()), (400, "status"));
    let r = api.get("/v1/customers", &[("starting_after", "cus_doesnotexist")]).await;
    assert_eq!((r.status, r.err("param").as_str()), (404, "starting_after"));
    let r = api.get("/v1/subscription_items", &[]).await;
    assert_eq!((r.status, r.err("param").as_str()), (400, "subscription"));
}

#[tokio::test]
async fn pagination_returns_every_object_once_in_both_directions() {
    let emu = demo();
    let api = Api::new(emu);
    // Forward with an odd page size.
    let mut forward: Vec<Value> = vec![];
    let mut after: Option<String> = None;
    loop {
        let mut q = vec![("limit", "7")];
        if let Some(a) = &after {
            q.push(("starting_after", a));
        }
        let r = api.get("/v1/customers", &q).await;
        assert_eq!(r.body["object"], "list");
        assert_eq!(r.body["url"], "/v1/customers");
        let data = r.body["data"].as_array().unwrap().clone();
        assert!(data.len() <= 7);
        after = data.last().map(|v| s(&v["id"]));
        forward.extend(data);
        if r.body["has_more"] == false {
            break;
        }
    }
    let fwd = ids(&forward);
    assert_eq!(fwd.len(), emu.count("customers"));
    assert_eq!(fwd.iter().collect::<HashSet<_>>().len(), fwd.len(), "duplicates in forward pagination");
    let keys: Vec<i64> = forward.iter().map(|v| v["created"].as_i64().unwrap()).collect();
    assert!(keys.windows(2).all(|w| w[0] >= w[1]), "not newest first");
    // Backward from the oldest object with ending_before.
    let oldest = fwd.last().unwrap().clone();
    let mut backward: Vec<String> = vec![oldest.clone()];
    let mut before = oldest;
    loop {
        let r = api.get("/v1/customers", &[("limit", "9"), ("ending_before", &before)]).await;
        let page = ids(r.body["data"].as_array().unwrap());
        if page.is_empty() {
            break;
        }
        before = page[0].clone();
        let mut merged = page;
        merged.extend(backward);
        backward = merged;
        if r.body["has_more"] == false {
            break;
        }
    }
    assert_eq!(backward, fwd, "backward pagination must visit the same objects in the same order");
    // Default page size is 10; the default default for has_more holds.
    let r = api.get("/v1/customers", &[]).await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 10);
    assert_eq!(r.body["has_more"], true);
    // A created window paginates completely too.
    let lo = keys[keys.len() - 1] + 1;
    let window = api.list_all("/v1/customers", &[("created[gte]", &lo.to_string())]).await;
    assert_eq!(window.len(), fwd.len() - keys.iter().filter(|k| **k < lo).count());
}

#[tokio::test]
async fn search_language_and_pages() {
    let api = Api::new(demo());
    let customers = api.list_all("/v1/customers", &[]).await;
    let email = s(&customers[4]["email"]);
    let r = api.get("/v1/customers/search", &[("query", &format!("email:'{email}'"))]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["object"], "search_result");
    assert_eq!(ids(r.body["data"].as_array().unwrap()), vec![s(&customers[4]["id"])]);
    // metadata and AND / negation against a client-side evaluation.
    let pro: Vec<String> = ids(&customers
        .iter()
        .filter(|c| c["metadata"]["plan"] == "pro" && c["metadata"]["segment"] != "smb")
        .cloned()
        .collect::<Vec<_>>());
    let mut got = vec![];
    let mut page: Option<String> = None;
    loop {
        let mut q = vec![("query", "metadata['plan']:'pro' AND -metadata['segment']:'smb'"), ("limit", "13")];
        if let Some(p) = &page {
            q.push(("page", p));
        }
        let r = api.get("/v1/customers/search", &q).await;
        assert_eq!(r.status, 200, "{}", r.body);
        got.extend(ids(r.body["data"].as_array().unwrap()));
        if r.body["has_more"] == false {
            assert!(r.body["next_page"].is_null());
            break;
        }
        page = Some(s(&r.body["next_page"]));
    }
    assert_eq!(got, pro);
    assert!(!pro.is_empty());
    // Numbers, OR, substring.
    let charges = api.list_all("/v1/charges", &[]).await;
    let want: Vec<String> = ids(&charges
        .iter()
        .filter(|c| c["amount"].as_i64().unwrap() > 40_000 && c["refunded"] == true)
        .cloned()
        .collect::<Vec<_>>());
    let r = api.get("/v1/charges/search", &[("query", "amount>40000 AND refunded:'true'"), ("limit", "100")]).await;
    assert_eq!(ids(r.body["data"].as_array().unwrap()), want);
    let r = api.get("/v1/customers/search", &[("query", "name~'ovelac' OR name~'uring'"), ("limit", "100")]).await;
    let want: Vec<String> = ids(&customers
        .iter()
        .filter(|c| s(&c["name"]).contains("ovelac") || s(&c["name"]).contains("uring"))
        .cloned()
        .collect::<Vec<_>>());
    assert_eq!(ids(r.body["data"].as_array().unwrap()), want);
    let r = api
        .get("/v1/charges/search", &[("query", "refunded:'true'"), ("limit", "3"), ("expand[]", "total_count")])
        .await;
    let refunded = charges.iter().filter(|c| c["refunded"] == true).count();
    assert_eq!(r.body["total_count"].as_u64(), Some(refunded as u64), "{}", r.body);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 3);
    // Invalid queries are 400s.
    for q in ["email:'a' AND name:'b' OR phone:'c'", "colour:'red'", "name~'ab'", "email:'unterminated", ""] {
        let r = api.get("/v1/customers/search", &[("query", q)]).await;
        assert_eq!(r.status, 400, "query {q:?} should be rejected: {}", r.body);
    }
    let r = api.get("/v1/refunds/search", &[("query", "amount>1")]).await;
    assert_eq!(r.status, 404, "refunds are not searchable");
}

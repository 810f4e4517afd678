//! State machines of the action endpoints, including illegal transitions, and the
//! side effects (balance transactions, refunds on charges, events).

use super::support::{Api, customer_with_card, fresh};

async fn pi(api: &Api, extra: &[(&str, &str)]) -> super::support::Resp {
    let mut f = vec![("amount", "2000"), ("currency", "usd")];
    f.extend_from_slice(extra);
    api.post("/v1/payment_intents", &f).await
}

#[tokio::test]
async fn payment_intent_state_machine() {
    let emu = fresh();
    let api = Api::new(&emu);
    let (cus, pm) = customer_with_card(&api, "p@example.com", "pm_card_visa").await;
    // Automatic capture: requires_payment_method -> requires_confirmation -> succeeded.
    let p = pi(&api, &[("customer", &cus)]).await;
    assert_eq!(p.s("status"), "requires_payment_method");
    let id = p.s("id");
    let r = api.post(&format!("/v1/payment_intents/{id}/confirm"), &[]).await;
    assert_eq!(
        (r.status, r.err("code").as_str()),
        (400, "payment_intent_unexpected_state"),
        "confirm without a payment method"
    );
    let u = api.post(&format!("/v1/payment_intents/{id}"), &[("payment_method", &pm)]).await;
    assert_eq!(u.s("status"), "requires_confirmation");
    let c = api.post(&format!("/v1/payment_intents/{id}/confirm"), &[]).await;
    assert_eq!(c.s("status"), "succeeded");
    assert_eq!(c.body["amount_received"], 2000);
    let ch = api.get(&format!("/v1/charges/{}", c.s("latest_charge")), &[]).await;
    assert_eq!((ch.body["captured"].as_bool(), ch.s("status").as_str()), (Some(true), "succeeded"));
    let txn = api.get(&format!("/v1/balance_transactions/{}", ch.s("balance_transaction")), &[]).await;
    assert_eq!(
        (txn.body["amount"].as_i64(), txn.body["fee"].as_i64(), txn.body["net"].as_i64()),
        (Some(2000), Some(88), Some(1912))
    );
    assert_eq!((txn.s("type").as_str(), txn.s("source")), ("charge", ch.s("id")));
    for verb in ["capture", "cancel", "confirm"] {
        let r = api.post(&format!("/v1/payment_intents/{id}/{verb}"), &[]).await;
        assert_eq!((r.status, r.err("code").as_str()), (400, "payment_intent_unexpected_state"), "{verb} on succeeded");
    }
    // Manual capture with confirm=true on create; partial capture.
    let m = pi(
        &api,
        &[
            ("customer", &cus),
            ("payment_method", "pm_card_mastercard"),
            ("capture_method", "manual"),
            ("confirm", "true"),
        ],
    )
    .await;
    assert_eq!(m.s("status"), "requires_capture");
    assert_eq!(m.body["amount_capturable"], 2000);
    let mid = m.s("id");
    let charge = api.get(&format!("/v1/charges/{}", m.s("latest_charge")), &[]).await;
    assert_eq!((charge.body["captured"].as_bool(), charge.body["balance_transaction"].is_null()), (Some(false), true));
    let inc = api.post(&format!("/v1/payment_intents/{mid}/increment_authorization"), &[("amount", "2500")]).await;
    assert_eq!((inc.status, inc.body["amount_capturable"].as_i64()), (200, Some(2500)));
    let cap = api.post(&format!("/v1/payment_intents/{mid}/capture"), &[("amount_to_capture", "1500")]).await;
    assert_eq!((cap.s("status").as_str(), cap.body["amount_received"].as_i64()), ("succeeded", Some(1500)));
    let charge = api.get(&format!("/v1/charges/{}", m.s("latest_charge")), &[]).await;
    assert_eq!(
        (charge.body["amount_captured"].as_i64(), charge.body["amount_refunded"].as_i64()),
        (Some(1500), Some(1000))
    );
    // Cancel from requires_capture releases the charge; capture after cancel is a 400.
    let k = pi(&api, &[("payment_method", "pm_card_visa"), ("capture_method", "manual"), ("confirm", "true")]).await;
    let kid = k.s("id");
    let cancel = api
        .post(&format!("/v1/payment_intents/{kid}/cancel"), &[("cancellation_reason", "requested_by_customer")])
        .await;
    assert_eq!(
        (cancel.s("status").as_str(), cancel.s("cancellation_reason").as_str()),
        ("canceled", "requested_by_customer")
    );
    assert!(cancel.body["canceled_at"].is_i64());
    let bad = api.post(&format!("/v1/payment_intents/{kid}/capture"), &[]).await;
    assert_eq!(
        (bad.status, bad.err("code").as_str(), bad.err("type").as_str()),
        (400, "payment_intent_unexpected_state", "invalid_request_error")
    );
    let released = api.get(&format!("/v1/charges/{}", k.s("latest_charge")), &[]).await;
    assert_eq!(released.body["refunded"], true);
    let again = api.post(&format!("/v1/payment_intents/{kid}/cancel"), &[]).await;
    assert_eq!(again.status, 400);
    // Cancel from requires_payment_method.
    let n = pi(&api, &[]).await;
    assert_eq!(api.post(&format!("/v1/payment_intents/{}/cancel", n.s("id")), &[]).await.s("status"), "canceled");
    // Declines: 402 card_error with decline_code; the intent goes back to requires_payment_method.
    for (card, decline) in [
        ("pm_card_chargeDeclined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ] {
        let d = pi(&api, &[("payment_method", card), ("confirm", "true")]).await;
        assert_eq!((d.status, d.err("type").as_str(), d.err("decline_code").as_str()), (402, "card_error", decline));
        assert_eq!(d.body["error"]["payment_intent"]["status"], "requires_payment_method");
        assert!(d.err("charge").starts_with("ch_"));
    }
    let d = api.post("/v1/charges", &[("amount", "900"), ("currency", "usd"), ("source", "tok_chargeDeclined")]).await;
    assert_eq!(
        (d.status, d.err("code").as_str(), d.err("decline_code").as_str()),
        (402, "card_declined", "generic_decline")
    );
    let failed = api.get(&format!("/v1/charges/{}", d.err("charge")), &[]).await;
    assert_eq!(failed.s("status"), "failed");
}

#[tokio::test]
async fn payment_methods_refunds_and_charge_capture() {
    let emu = fresh();
    let api = Api::new(&emu);
    let cus = api.post("/v1/customers", &[("email", "pm@example.com")]).await.s("id");
    let pm = api
        .post(
            "/v1/payment_methods",
            &[
                ("type", "card"),
                ("card[number]", "4242424242424242"),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2031"),
                ("card[cvc]", "123"),
            ],
        )
        .await;
    assert_eq!((pm.status, pm.body["card"]["last4"].as_str()), (200, Some("4242")));
    let pid = pm.s("id");
    let detach_first = api.post(&format!("/v1/payment_methods/{pid}/detach"), &[]).await;
    assert_eq!(detach_first.status, 400, "detaching an unattached payment method");
    let a = api.post(&format!("/v1/payment_methods/{pid}/attach"), &[("customer", &cus)]).await;
    assert_eq!(a.s("customer"), cus);
    let listed = api.list_all("/v1/payment_methods", &[("customer", &cus)]).await;
    assert_eq!(listed.len(), 1);
    let other = api.post("/v1/customers", &[]).await.s("id");
    assert_eq!(api.post(&format!("/v1/payment_methods/{pid}/attach"), &[("customer", &other)]).await.status, 400);
    let d = api.post(&format!("/v1/payment_methods/{pid}/detach"), &[]).await;
    assert!(d.body["customer"].is_null());
    assert!(api.list_all("/v1/payment_methods", &[("customer", &cus)]).await.is_empty());
    let declined = api.post("/v1/payment_methods/pm_card_chargeDeclined/attach", &[("customer", &cus)]).await;
    assert_eq!((declined.status, declined.err("type").as_str()), (402, "card_error"));
    let nope = api.post("/v1/payment_methods/pm_nope/attach", &[("customer", &cus)]).await;
    assert_eq!(nope.status, 404);
    // Charge capture.
    let ch = api
        .post("/v1/charges", &[("amount", "5000"), ("currency", "usd"), ("source", "tok_visa"), ("capture", "false")])
        .await;
    let cid = ch.s("id");
    assert_eq!(ch.body["captured"], false);
    let cap = api.post(&format!("/v1/charges/{cid}/capture"), &[]).await;
    assert_eq!((cap.body["captured"].as_bool(), cap.body["amount_captured"].as_i64()), (Some(true), Some(5000)));
    let twice = api.post(&format!("/v1/charges/{cid}/capture"), &[]).await;
    assert_eq!((twice.status, twice.err("code").as_str()), (400, "charge_already_captured"));
    // Refunds: partial, then too much, then the rest; negative balance transactions.
    let r1 = api.post("/v1/refunds", &[("charge", &cid), ("amount", "2000")]).await;
    assert_eq!((r1.status, r1.s("status").as_str()), (200, "succeeded"));
    let t = api.get(&format!("/v1/balance_transactions/{}", r1.s("balance_transaction")), &[]).await;
    assert_eq!((t.body["amount"].as_i64(), t.s("type").as_str()), (Some(-2000), "refund"));
    let c = api.get(&format!("/v1/charges/{cid}"), &[]).await;
    assert_eq!((c.body["amount_refunded"].as_i64(), c.body["refunded"].as_bool()), (Some(2000), Some(false)));
    let big = api.post("/v1/refunds", &[("charge", &cid), ("amount", "3001")]).await;
    assert_eq!((big.status, big.err("param").as_str()), (400, "amount"));
    let r2 = api.post("/v1/refunds", &[("charge", &cid)]).await;
    assert_eq!(r2.body["amount"], 3000);
    let c = api.get(&format!("/v1/charges/{cid}"), &[]).await;
    assert_eq!(c.body["refunded"], true);
    let done = api.post("/v1/refunds", &[("charge", &cid)]).await;
    assert_eq!((done.status, done.err("code").as_str()), (400, "charge_already_refunded"));
    assert_eq!(api.post("/v1/refunds", &[]).await.status, 400);
    let refunded_events = api.list_all("/v1/events", &[("type", "charge.refunded")]).await;
    assert_eq!(refunded_events.len(), 2);
    assert!(refunded_events[0]["data"]["previous_attributes"]["amount_refunded"].is_i64());
    // Refund cancel: only requires_action refunds.
    let cant = api.post(&format!("/v1/refunds/{}/cancel", r1.s("id")), &[]).await;
    assert_eq!(cant.status, 400);
    let ch2 =
        api.post("/v1/charges", &[("amount", "700"), ("currency", "usd"), ("source", "tok_mastercard")]).await.s("id");
    let pending = api.post("/v1/refunds", &[("charge", &ch2), ("instructions_email", "a@example.com")]).await;
    assert_eq!(pending.s("status"), "requires_action");
    let canceled = api.post(&format!("/v1/refunds/{}/cancel", pending.s("id")), &[]).await;
    assert_eq!(canceled.s("status"), "canceled");
}

#[tokio::test]
async fn invoice_state_machine() {
    let emu = fresh();
    let api = Api::new(&emu);
    let (cus, _) = customer_with_card(&api, "inv@example.com", "pm_card_visa").await;
    let new_invoice = |extra: Vec<(&'static str, &'static str)>| {
        let api = api.clone();
        let cus = cus.clone();
        async move {
            let mut f = vec![("customer", cus.as_str())];
            f.extend(extra);
            let inv = api.post("/v1/invoices", &f).await;
            assert_eq!(inv.status, 200, "{}", inv.body);
            let id = inv.s("id");
            let it = api
                .post(
                    "/v1/invoiceitems",
                    &[("customer", cus.as_str()), ("amount", "3000"), ("currency", "usd"), ("invoice", id.as_str())],
                )
                .await;
            assert_eq!(it.status, 200, "{}", it.body);
            id
        }
    };
    let id = new_invoice(vec![]).await;
    let inv = api.get(&format!("/v1/invoices/{id}"), &[]).await;
    assert_eq!((inv.s("status").as_str(), inv.body["amount_due"].as_i64()), ("draft", Some(3000)));
    let lines = api.get(&format!("/v1/invoices/{id}/lines"), &[]).await;
    assert_eq!(lines.body["data"].as_array().unwrap().len(), 1);
    for verb in ["void", "send", "mark_uncollectible"] {
        assert_eq!(api.post(&format!("/v1/invoices/{id}/{verb}"), &[]).await.status, 400, "{verb} on a draft");
    }
    let f = api.post(&format!("/v1/invoices/{id}/finalize"), &[]).await;
    assert_eq!(f.s("status"), "open");
    assert!(f.body["number"].is_string());
    assert_eq!(api.post(&format!("/v1/invoices/{id}/finalize"), &[]).await.status, 400);
    assert_eq!(api.delete(&format!("/v1/invoices/{id}")).await.status, 400, "only drafts can be deleted");
    let p = api.post(&format!("/v1/invoices/{id}/pay"), &[]).await;
    assert_eq!(
        (p.s("status").as_str(), p.body["amount_paid"].as_i64(), p.body["paid"].as_bool()),
        ("paid", Some(3000), Some(true))
    );
    assert!(p.s("charge").starts_with("ch_"));
    for verb in ["pay", "void", "mark_uncollectible", "finalize"] {
        assert_eq!(api.post(&format!("/v1/invoices/{id}/{verb}"), &[]).await.status, 400, "{verb} on paid");
    }
    // open -> void; open -> uncollectible -> paid out of band; send.
    let v = new_invoice(vec![]).await;
    api.post(&format!("/v1/invoices/{v}/finalize"), &[]).await;
    assert_eq!(api.post(&format!("/v1/invoices/{v}/void"), &[]).await.s("status"), "void");
    assert_eq!(api.post(&format!("/v1/invoices/{v}/pay"), &[]).await.status, 400);
    let u = new_invoice(vec![("collection_method", "send_invoice"), ("days_until_due", "30")]).await;
    api.post(&format!("/v1/invoices/{u}/finalize"), &[]).await;
    assert_eq!(api.post(&format!("/v1/invoices/{u}/send"), &[]).await.status, 200);
    assert_eq!(api.post(&format!("/v1/invoices/{u}/mark_uncollectible"), &[]).await.s("status"), "uncollectible");
    let paid = api.post(&format!("/v1/invoices/{u}/pay"), &[("paid_out_of_band", "true")]).await;
    assert_eq!(paid.s("status"), "paid");
    // A draft can be deleted.
    let d = new_invoice(vec![]).await;
    assert_eq!(api.delete(&format!("/v1/invoices/{d}")).await.body["deleted"], true);
    let types: Vec<String> = api
        .list_all("/v1/events", &[("type", "invoice.*")])
        .await
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect();
    for t in [
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.voided",
        "invoice.sent",
        "invoice.marked_uncollectible",
        "invoice.deleted",
    ] {
        assert!(types.iter().any(|x| x == t), "missing {t}");
    }
}

#[tokio::test]
async fn quote_and_subscription_state_machines() {
    let emu = fresh();
    let api = Api::new(&emu);
    let (cus, _) = customer_with_card(&api, "q@example.com", "pm_card_visa").await;
    let prod = api.post("/v1/products", &[("name", "Plan")]).await.s("id");
    let one = api.post("/v1/prices", &[("product", &prod), ("currency", "usd"), ("unit_amount", "1200")]).await.s("id");
    let monthly = api
        .post(
            "/v1/prices",
            &[("product", &prod), ("currency", "usd"), ("unit_amount", "900"), ("recurring[interval]", "month")],
        )
        .await
        .s("id");
    // Quote: draft -> open -> accepted (creates an invoice); cancel; illegal moves.
    let q = api
        .post("/v1/quotes", &[("customer", &cus), ("line_items[0][price]", &one), ("line_items[0][quantity]", "2")])
        .await;
    assert_eq!((q.status, q.s("status").as_str(), q.body["amount_total"].as_i64()), (200, "draft", Some(2400)));
    let qid = q.s("id");
    assert_eq!(api.post(&format!("/v1/quotes/{qid}/accept"), &[]).await.status, 400, "accepting a draft");
    assert_eq!(api.post(&format!("/v1/quotes/{qid}/finalize"), &[]).await.s("status"), "open");
    let acc = api.post(&format!("/v1/quotes/{qid}/accept"), &[]).await;
    assert_eq!(acc.s("status"), "accepted");
    let inv = api.get(&format!("/v1/invoices/{}", acc.s("invoice")), &[]).await;
    assert_eq!((inv.status, inv.body["amount_due"].as_i64(), inv.s("quote")), (200, Some(2400), qid.clone()));
    assert_eq!(api.post(&format!("/v1/quotes/{qid}/cancel"), &[]).await.status, 400);
    let li = api.get(&format!("/v1/quotes/{qid}/line_items"), &[]).await;
    assert_eq!(li.body["data"][0]["quantity"], 2);
    let q2 = api.post("/v1/quotes", &[("customer", &cus), ("line_items[0][price]", &one)]).await.s("id");
    assert_eq!(api.post(&format!("/v1/quotes/{q2}/cancel"), &[]).await.s("status"), "canceled");
    assert_eq!(api.post(&format!("/v1/quotes/{q2}/finalize"), &[]).await.status, 400);
    // Subscriptions: create (paid, active), one-time price rejected, cancel by POST and DELETE.
    let bad = api.post("/v1/subscriptions", &[("customer", &cus), ("items[0][price]", &one)]).await;
    assert_eq!((bad.status, bad.err("param").as_str()), (400, "items[0][price]"));
    let s = api
        .post("/v1/subscriptions", &[("customer", &cus), ("items[0][price]", &monthly), ("items[0][quantity]", "2")])
        .await;
    assert_eq!((s.status, s.s("status").as_str()), (200, "active"), "{}", s.body);
    assert_eq!(s.body["items"]["data"][0]["price"]["id"], monthly.as_str());
    let latest = api.get(&format!("/v1/invoices/{}", s.s("latest_invoice")), &[]).await;
    assert_eq!((latest.s("status").as_str(), latest.body["amount_paid"].as_i64()), ("paid", Some(1800)));
    let sid = s.s("id");
    let items = api.list_all("/v1/subscription_items", &[("subscription", &sid)]).await;
    assert_eq!(items.len(), 1);
    assert_eq!(api.post(&format!("/v1/subscriptions/{sid}/resume"), &[]).await.status, 400, "resume needs paused");
    let c = api.post(&format!("/v1/subscriptions/{sid}/cancel"), &[]).await;
    assert_eq!(c.s("status"), "canceled");
    assert!(c.body["canceled_at"].is_i64() && c.body["ended_at"].is_i64());
    assert_eq!(api.post(&format!("/v1/subscriptions/{sid}/cancel"), &[]).await.status, 400);
    assert_eq!(api.post(&format!("/v1/subscriptions/{sid}"), &[("description", "x")]).await.status, 400);
    assert_eq!(api.post(&format!("/v1/subscriptions/{sid}"), &[("metadata[k]", "v")]).await.status, 200);
    let s2 = api
        .post("/v1/subscriptions", &[("customer", &cus), ("items[0][price]", &monthly), ("trial_period_days", "7")])
        .await;
    assert_eq!(s2.s("status"), "trialing");
    let del = api.delete(&format!("/v1/subscriptions/{}", s2.s("id"))).await;
    assert_eq!((del.s("object").as_str(), del.s("status").as_str()), ("subscription", "canceled"));
    assert!(api.list_all("/v1/subscriptions", &[]).await.is_empty(), "canceled subscriptions are hidden by default");
    assert_eq!(api.list_all("/v1/subscriptions", &[("status", "all")]).await.len(), 2);
    assert_eq!(api.list_all("/v1/events", &[("type", "customer.subscription.deleted")]).await.len(), 2);
}

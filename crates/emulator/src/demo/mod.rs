//! Deterministic demo data: an 18-month-old account as of a fixed reference time
//! (2026-11-01T00:00:00Z), built by running the emulator's own write paths with a
//! fixed clock, so every object is consistent (charges have balance transactions,
//! refunds update their charges, invoices have lines, ...). `scale` multiplies sizes.

mod names;

use super::params::Params;
use super::resources::{self, billing, charges, customers, invoices, payments, payouts, products, quotes, spec};
use super::rng::Rng;
use super::store::State;
use serde_json::{Value, json};

/// The demo account's "now": 2026-11-01T00:00:00Z.
pub const REFERENCE_NOW: i64 = 1_793_491_200;
const DAY: i64 = 86_400;
const START: i64 = REFERENCE_NOW - 548 * DAY;

fn p(v: Value) -> Params {
    Params(v.as_object().cloned().unwrap_or_default())
}

/// Moves the clock; events are kept only for the last 30 days (as Stripe retains them).
fn at(state: &mut State, t: i64) {
    state.fixed_now = Some(t.min(REFERENCE_NOW));
    state.events_enabled = t >= REFERENCE_NOW - 30 * DAY;
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap_or_default().to_string()
}

fn set_field(state: &mut State, resource: &str, obj_id: &str, key: &str, value: Value) {
    if let Some(m) = state.get_mut(resource, obj_id) {
        m.insert(key.into(), value);
    }
}

/// Fills `state` with the demo account.
pub fn generate(state: &mut State, seed: u64, scale: u32) {
    let s = scale.max(1) as usize;
    let mut rng = Rng::new(seed ^ 0xDE30);
    at(state, START);
    // Catalog: products with one-time and recurring prices, coupons.
    let mut one_time = vec![];
    let mut recurring = vec![];
    for i in 0..(8 * s) {
        at(state, START + i as i64 * 3600);
        let name = format!(
            "{}{}",
            names::PRODUCTS[i % names::PRODUCTS.len()],
            if i >= names::PRODUCTS.len() { format!(" {}", i) } else { String::new() }
        );
        let prod = products::create_product(
            state,
            &p(json!({"name": name, "shippable": i % 4 == 0, "metadata": {"tier": names::PLANS[i % 5]}})),
        )
        .expect("demo product");
        let pid = id(&prod);
        let base = rng.range(5, 200) * 100;
        let cur = if i % 5 == 4 { "eur" } else { "usd" };
        let o = products::create_price(state, &p(json!({"product": pid, "currency": cur, "unit_amount": base * 3, "nickname": format!("{name} one-time")}))).expect("price");
        one_time.push(o);
        let m = products::create_price(state, &p(json!({"product": pid, "currency": cur, "unit_amount": base, "nickname": format!("{name} monthly"),
            "recurring": {"interval": "month"}, "lookup_key": format!("{}_monthly_{i}", name.to_lowercase().replace(' ', "_"))}))).expect("price");
        let y = products::create_price(state, &p(json!({"product": pid, "currency": cur, "unit_amount": base * 10, "nickname": format!("{name} yearly"), "recurring": {"interval": "year"}}))).expect("price");
        if cur == "usd" {
            recurring.push(m);
            recurring.push(y);
        }
        if i % 6 == 5 {
            let old = products::create_price(state, &p(json!({"product": pid, "currency": cur, "unit_amount": base / 2 + 100, "nickname": "legacy", "recurring": {"interval": "month"}}))).expect("price");
            set_field(state, "prices", &id(&old), "active", json!(false));
        }
        if i % 7 == 6 {
            set_field(state, "products", &pid, "active", json!(false));
        }
    }
    for i in 0..(5 * s) {
        at(state, START + DAY + i as i64 * 3600);
        let c = if i % 2 == 0 {
            json!({"percent_off": (10 * (i % 5 + 1)).to_string(), "duration": "repeating", "duration_in_months": 3, "name": format!("SAVE{}", 10 * (i % 5 + 1))})
        } else {
            json!({"amount_off": 500 * (i + 1), "currency": "usd", "duration": "once", "name": format!("WELCOME{i}")})
        };
        products::create_coupon(state, &p(c)).expect("coupon");
    }
    // Customers spread over 18 months, each with a card.
    let n_customers = 200 * s;
    let mut times: Vec<i64> = (0..n_customers).map(|_| rng.range(START + DAY, REFERENCE_NOW - DAY)).collect();
    times.sort();
    let mut custs: Vec<(i64, String, String)> = vec![];
    for (i, t) in times.iter().enumerate() {
        at(state, *t);
        let first = rng.pick(names::FIRST);
        let last = rng.pick(names::LAST);
        let email = format!("{}.{}{}@example.com", first.to_lowercase(), last.to_lowercase().replace(' ', ""), i);
        let country = rng.pick(names::COUNTRIES);
        let plan = rng.pick(names::PLANS);
        let c = customers::create(state, &p(json!({"name": format!("{first} {last}"), "email": email,
            "address": {"country": country, "city": null, "line1": null, "line2": null, "postal_code": null, "state": null},
            "phone": format!("+1555{:07}", i), "metadata": {"plan": plan, "segment": if i % 3 == 0 {"smb"} else {"mid_market"}}}))).expect("customer");
        let cid = id(&c);
        let card = if i % 29 == 7 {
            "pm_card_chargeCustomerFail"
        } else {
            *rng.pick(&["pm_card_visa", "pm_card_visa", "pm_card_mastercard", "pm_card_amex"])
        };
        let pm = customers::attach_to(state, card, &cid, "payment_method").expect("attach");
        resources::update(
            state,
            spec("customers").expect("spec"),
            &cid,
            &p(json!({"invoice_settings": {"default_payment_method": id(&pm)}})),
        )
        .expect("default pm");
        custs.push((*t, cid, id(&pm)));
    }
    // Charges through payment intents over 18 months, with refunds and disputes.
    let n_charges = 2000 * s;
    let mut ctimes: Vec<i64> = (0..n_charges).map(|_| rng.range(START + 2 * DAY, REFERENCE_NOW - 3600)).collect();
    ctimes.sort();
    let dispute_statuses =
        ["needs_response", "under_review", "won", "lost", "warning_needs_response", "warning_closed"];
    let mut succeeded_charges: Vec<(i64, String, i64)> = vec![];
    for (k, t) in ctimes.iter().enumerate() {
        let known = custs.partition_point(|c| c.0 <= *t);
        if known == 0 {
            continue;
        }
        let (_, cid, pm) = custs[rng.range(0, known as i64) as usize].clone();
        at(state, *t);
        let amount = rng.range(5, 500) * 100 + rng.range(0, 100);
        let manual = k % 17 == 3;
        let created = payments::create(
            state,
            &p(json!({"amount": amount, "currency": "usd", "customer": cid, "payment_method": pm, "confirm": true,
            "capture_method": if manual {"manual"} else {"automatic"}, "description": format!("Order #{}", 10_000 + k), "metadata": {"order": (10_000 + k).to_string()}})),
        );
        let Ok(pi) = created else { continue };
        let piid = id(&pi);
        let ch = pi["latest_charge"].as_str().unwrap_or_default().to_string();
        if manual {
            if *t < REFERENCE_NOW - 7 * DAY {
                at(state, t + 3600);
                let _ =
                    payments::action(state, &piid, if k % 2 == 0 { "capture" } else { "cancel" }, &Params::default());
            }
            continue;
        }
        succeeded_charges.push((*t, ch.clone(), amount));
        if k % 12 == 5 {
            at(state, t + rng.range(DAY, 20 * DAY));
            let partial = k % 24 == 5;
            let mut rp =
                json!({"charge": ch, "reason": *rng.pick(&["requested_by_customer", "duplicate", "fraudulent"])});
            if partial {
                rp["amount"] = json!(amount / 2);
            }
            if k % 60 == 5 {
                rp["instructions_email"] = json!("refunds@example.com");
            }
            let _ = charges::create_refund(state, &p(rp));
        }
        if k % 97 == 11 {
            at(state, t + rng.range(2 * DAY, 30 * DAY));
            let st = dispute_statuses[(k / 97) % dispute_statuses.len()];
            let reasons = ["fraudulent", "product_not_received", "duplicate", "subscription_canceled"];
            let reason = *rng.pick(&reasons);
            charges::make_dispute(state, &ch, reason, st);
        }
    }
    // Payment intents in the remaining statuses.
    for i in 0..(6 * s) {
        let (t, cid, pm) = custs[(i * 31) % custs.len()].clone();
        at(state, (t + 5 * DAY).min(REFERENCE_NOW - 3600));
        let amount = 1000 + 250 * i as i64;
        let _ = payments::create(state, &p(json!({"amount": amount, "currency": "usd", "customer": cid})));
        let _ = payments::create(
            state,
            &p(json!({"amount": amount, "currency": "usd", "customer": cid, "payment_method": pm})),
        );
        if let Ok(pi) = payments::create(
            state,
            &p(json!({"amount": amount, "currency": "usd", "customer": cid, "payment_method": pm})),
        ) {
            set_field(
                state,
                "payment_intents",
                &id(&pi),
                "status",
                json!(if i % 2 == 0 { "processing" } else { "requires_action" }),
            );
        }
        if let Ok(pi) = payments::create(
            state,
            &p(
                json!({"amount": amount, "currency": "usd", "customer": cid, "payment_method": pm, "capture_method": "manual", "confirm": true}),
            ),
        ) {
            let _ = pi;
        }
        if let Ok(pi) = payments::create(state, &p(json!({"amount": amount, "currency": "usd", "customer": cid}))) {
            let _ = payments::action(state, &id(&pi), "cancel", &p(json!({"cancellation_reason": "abandoned"})));
        }
    }
    // Subscriptions in every status.
    let sub_statuses = [
        "active",
        "active",
        "active",
        "trialing",
        "canceled",
        "past_due",
        "unpaid",
        "incomplete",
        "incomplete_expired",
        "paused",
    ];
    for (i, (t, cid, _)) in custs.clone().iter().enumerate() {
        if i % 5 >= 3 || recurring.is_empty() {
            continue;
        }
        let target = sub_statuses[(i / 5 * 3 + i % 5) % sub_statuses.len()];
        at(state, t + DAY);
        let price = id(&recurring[rng.range(0, recurring.len() as i64) as usize]);
        let mut sp = json!({"customer": cid, "items": [{"price": price, "quantity": rng.range(1, 5)}], "metadata": {"source": "demo"}});
        if target == "trialing" {
            sp["trial_end"] = json!(REFERENCE_NOW + 14 * DAY);
        }
        if i % 9 == 4 && target == "active" {
            sp["collection_method"] = json!("send_invoice");
            sp["days_until_due"] = json!(30);
        }
        if target.starts_with("incomplete") {
            sp["payment_behavior"] = json!("default_incomplete");
        }
        let Ok(sub) = billing::create(state, &p(sp)) else {
            continue;
        };
        let sid = id(&sub);
        match target {
            "canceled" => {
                at(state, t + rng.range(30, 200) * DAY);
                let _ = billing::cancel(state, &sid, &Params::default());
            }
            "past_due" | "unpaid" | "incomplete_expired" | "paused" => {
                set_field(state, "subscriptions", &sid, "status", json!(target))
            }
            _ => {}
        }
    }
    // Invoices in every status, with invoice items.
    for i in 0..(40 * s) {
        let (t, cid, _) = custs[(i * 7 + 3) % custs.len()].clone();
        at(state, (t + (i as i64 % 20 + 2) * DAY).min(REFERENCE_NOW - 3600));
        let price = id(&one_time[i % one_time.len()]);
        if one_time[i % one_time.len()]["currency"] != "usd" {
            continue;
        }
        let send = i % 2 == 0;
        let mut ip = json!({"customer": cid, "description": format!("Services #{i}"), "metadata": {"po": format!("PO-{}", 500 + i)}});
        if send {
            ip["collection_method"] = json!("send_invoice");
            ip["days_until_due"] = json!(30);
        }
        let Ok(inv) = invoices::create(state, &p(ip)) else {
            continue;
        };
        let iid = id(&inv);
        let _ = invoices::create_item(
            state,
            &p(json!({"customer": cid, "price": price, "quantity": (i % 3 + 1) as i64, "invoice": iid})),
        );
        let _ = invoices::create_item(
            state,
            &p(json!({"customer": cid, "amount": 1500, "currency": "usd", "description": "Setup fee", "invoice": iid})),
        );
        let none = Params::default();
        let _ = match i % 5 {
            0 => Ok(Value::Null),
            1 => invoices::finalize(state, &iid),
            2 => invoices::action(state, &iid, "pay", &none),
            3 => invoices::finalize(state, &iid).and_then(|_| invoices::action(state, &iid, "void", &none)),
            _ => {
                invoices::finalize(state, &iid).and_then(|_| invoices::action(state, &iid, "mark_uncollectible", &none))
            }
        };
    }
    // Pending invoice items.
    for i in 0..(10 * s) {
        let (t, cid, _) = custs[(i * 13 + 1) % custs.len()].clone();
        at(state, (t + 3 * DAY).min(REFERENCE_NOW - 3600));
        let _ = invoices::create_item(
            state,
            &p(
                json!({"customer": cid, "amount": 700 + 100 * i as i64, "currency": "usd", "description": "Usage overage"}),
            ),
        );
    }
    // Quotes in every status.
    for i in 0..(12 * s) {
        let (t, cid, _) = custs[(i * 17 + 5) % custs.len()].clone();
        at(state, (t + 4 * DAY).min(REFERENCE_NOW - 3600));
        let usd: Vec<&Value> = one_time.iter().filter(|x| x["currency"] == "usd").collect();
        let price = if i % 4 == 3 && !recurring.is_empty() {
            id(&recurring[i % recurring.len()])
        } else {
            id(usd[i % usd.len()])
        };
        let Ok(q) = quotes::create(
            state,
            &p(
                json!({"customer": cid, "line_items": [{"price": price, "quantity": (i % 4 + 1) as i64}], "description": format!("Proposal {i}")}),
            ),
        ) else {
            continue;
        };
        let qid = id(&q);
        let none = Params::default();
        let _ = match i % 4 {
            0 => Ok(Value::Null),
            1 => quotes::action(state, &qid, "finalize", &none),
            2 => quotes::action(state, &qid, "finalize", &none)
                .and_then(|_| quotes::action(state, &qid, "accept", &none)),
            _ => quotes::action(state, &qid, "cancel", &none),
        };
    }
    // Weekly automatic payouts of the week's charges.
    let mut week_start = START + 7 * DAY;
    let mut w = 0usize;
    while week_start < REFERENCE_NOW {
        let week_end = week_start + 7 * DAY;
        let t_end = week_end.min(REFERENCE_NOW - 60);
        let in_week: Vec<&(i64, String, i64)> =
            succeeded_charges.iter().filter(|c| c.0 >= week_start - 7 * DAY && c.0 < week_start).collect();
        let total: i64 = in_week.iter().map(|c| c.2 - charges::fee_for(c.2)).sum();
        if total > 0 {
            at(state, t_end);
            let status = if t_end > REFERENCE_NOW - 2 * DAY {
                "in_transit"
            } else if w % 23 == 22 {
                "failed"
            } else {
                "paid"
            };
            let mut po = payouts::make(state, total, "usd", true, status);
            if status == "failed" {
                po.insert("failure_code".into(), json!("account_closed"));
                po.insert("failure_message".into(), json!("The bank account has been closed."));
            }
            let poid = id(&Value::Object(po.clone()));
            resources::commit_new(state, spec("payouts").expect("spec"), po);
            for c in in_week {
                if let Some(ch) = state.get("charges", &c.1)
                    && let Some(t) = ch["balance_transaction"].as_str().map(String::from)
                {
                    state.payout_of_txn.insert(t, poid.clone());
                }
            }
        }
        week_start = week_end;
        w += 1;
    }
    at(state, REFERENCE_NOW - 3 * 3600);
    let _ = payouts::create(state, &p(json!({"amount": 5000, "currency": "usd", "description": "Manual payout"})));
    if let Ok(po) = payouts::create(state, &p(json!({"amount": 2500, "currency": "usd"}))) {
        let _ = payouts::action(state, &id(&po), "cancel", &Params::default());
    }
    // Settle: old balance transactions become available.
    let settled: Vec<String> = state
        .find("balance_transactions", |t| t["available_on"].as_i64().is_some_and(|a| a <= REFERENCE_NOW))
        .iter()
        .map(id)
        .collect();
    for t in settled {
        set_field(state, "balance_transactions", &t, "status", json!("available"));
    }
    state.fixed_now = None;
    state.events_enabled = true;
}

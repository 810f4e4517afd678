//! Charges shaped like Stripe's for the benchmarks (ids `ch_00000000`…, newest
//! first: charge `n` was created `n * spacing / 2` seconds before a fixed time,
//! so pairs of charges share a second).

use serde_json::{Value, json};

/// `created` of the newest charge.
pub const NEWEST: i64 = 1_780_000_000;

/// `created` of charge `n` when consecutive pairs are `spacing` seconds apart.
pub fn created(n: usize, spacing: i64) -> i64 {
    NEWEST - (n / 2) as i64 * spacing
}

/// Charge number `n`.
pub fn charge(n: usize, spacing: i64) -> Value {
    json!({
        "id": format!("ch_{n:08}"), "object": "charge", "amount": 1000 + (n % 9000), "amount_captured": 1000,
        "amount_refunded": 0, "application": null, "application_fee": null, "application_fee_amount": null,
        "balance_transaction": format!("txn_{n:08}"),
        "billing_details": {"address": {"city": null, "country": "US", "line1": null, "line2": null,
            "postal_code": "94107", "state": null}, "email": format!("c{n}@example.com"), "name": "Jenny Rosen", "phone": null},
        "calculated_statement_descriptor": "STRIPE-SQL", "captured": true, "created": created(n, spacing),
        "currency": "usd", "customer": format!("cus_{:08}", n % 5000), "description": format!("order {n}"),
        "disputed": false, "failure_code": null, "failure_message": null, "fraud_details": {}, "invoice": null,
        "livemode": false, "metadata": {"order": format!("{n}")}, "on_behalf_of": null,
        "outcome": {"network_status": "approved_by_network", "reason": null, "risk_level": "normal",
            "risk_score": 20, "seller_message": "Payment complete.", "type": "authorized"},
        "paid": true, "payment_intent": format!("pi_{n:08}"), "payment_method": format!("pm_{n:08}"),
        "payment_method_details": {"card": {"brand": "visa", "country": "US", "exp_month": 12, "exp_year": 2030,
            "funding": "credit", "last4": "4242", "network": "visa"}, "type": "card"},
        "receipt_email": null, "receipt_number": null, "receipt_url": "https://pay.example/receipts/x",
        "refunded": false, "review": null, "shipping": null, "source_transfer": null,
        "statement_descriptor": null, "statement_descriptor_suffix": null, "status": "succeeded",
        "transfer_data": null, "transfer_group": null
    })
}

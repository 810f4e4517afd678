//! The table of resources: names, object types, id prefixes, event names, the
//! parameters their create and update accept, and how DELETE behaves.

use super::{billing, charges, customers, invoices, payments, payouts, products, quotes};

/// How DELETE behaves on a resource.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Delete {
    /// No DELETE endpoint (Stripe answers 404 "Unrecognized request URL").
    No,
    /// Removes the object and answers `{id, object, deleted: true}`.
    Stub,
    /// DELETE means cancel (subscriptions).
    Cancel,
}

/// Static facts about one resource.
#[derive(Debug)]
pub struct Spec {
    /// URL name (`payment_intents`).
    pub name: &'static str,
    /// `object` value (`payment_intent`).
    pub object: &'static str,
    /// Id prefix (`pi`).
    pub prefix: &'static str,
    /// Event type prefix (`customer.subscription` for subscriptions).
    pub event: &'static str,
    /// Create parameters (`None`: no create endpoint; empty: accept any).
    pub create: Option<&'static [&'static str]>,
    /// Update parameters (`None`: no update endpoint; empty: accept any).
    pub update: Option<&'static [&'static str]>,
    /// DELETE behaviour.
    pub delete: Delete,
}

const ANY: &[&str] = &[];

/// Every resource the emulator serves.
pub const SPECS: &[Spec] = &[
    Spec {
        name: "customers",
        object: "customer",
        prefix: "cus",
        event: "customer",
        create: Some(customers::CREATE),
        update: Some(customers::UPDATE),
        delete: Delete::Stub,
    },
    Spec {
        name: "payment_methods",
        object: "payment_method",
        prefix: "pm",
        event: "payment_method",
        create: Some(customers::PM_CREATE),
        update: Some(customers::PM_UPDATE),
        delete: Delete::No,
    },
    Spec {
        name: "products",
        object: "product",
        prefix: "prod",
        event: "product",
        create: Some(products::PRODUCT_CREATE),
        update: Some(products::PRODUCT_UPDATE),
        delete: Delete::Stub,
    },
    Spec {
        name: "prices",
        object: "price",
        prefix: "price",
        event: "price",
        create: Some(products::PRICE_CREATE),
        update: Some(products::PRICE_UPDATE),
        delete: Delete::No,
    },
    Spec {
        name: "coupons",
        object: "coupon",
        prefix: "",
        event: "coupon",
        create: Some(products::COUPON_CREATE),
        update: Some(products::COUPON_UPDATE),
        delete: Delete::Stub,
    },
    Spec {
        name: "payment_intents",
        object: "payment_intent",
        prefix: "pi",
        event: "payment_intent",
        create: Some(payments::CREATE),
        update: Some(payments::UPDATE),
        delete: Delete::No,
    },
    Spec {
        name: "charges",
        object: "charge",
        prefix: "ch",
        event: "charge",
        create: Some(charges::CREATE),
        update: Some(charges::UPDATE),
        delete: Delete::No,
    },
    Spec {
        name: "refunds",
        object: "refund",
        prefix: "re",
        event: "refund",
        create: Some(charges::REFUND_CREATE),
        update: Some(&["metadata"]),
        delete: Delete::No,
    },
    Spec {
        name: "balance_transactions",
        object: "balance_transaction",
        prefix: "txn",
        event: "balance_transaction",
        create: None,
        update: None,
        delete: Delete::No,
    },
    Spec {
        name: "disputes",
        object: "dispute",
        prefix: "dp",
        event: "charge.dispute",
        create: None,
        update: Some(&["evidence", "metadata", "submit"]),
        delete: Delete::No,
    },
    Spec {
        name: "payouts",
        object: "payout",
        prefix: "po",
        event: "payout",
        create: Some(payouts::CREATE),
        update: Some(&["metadata"]),
        delete: Delete::No,
    },
    Spec {
        name: "subscriptions",
        object: "subscription",
        prefix: "sub",
        event: "customer.subscription",
        create: Some(billing::CREATE),
        update: Some(billing::UPDATE),
        delete: Delete::Cancel,
    },
    Spec {
        name: "subscription_items",
        object: "subscription_item",
        prefix: "si",
        event: "subscription_item",
        create: Some(billing::ITEM_CREATE),
        update: Some(billing::ITEM_UPDATE),
        delete: Delete::Stub,
    },
    Spec {
        name: "invoices",
        object: "invoice",
        prefix: "in",
        event: "invoice",
        create: Some(invoices::CREATE),
        update: Some(invoices::UPDATE),
        delete: Delete::Stub,
    },
    Spec {
        name: "invoiceitems",
        object: "invoiceitem",
        prefix: "ii",
        event: "invoiceitem",
        create: Some(invoices::ITEM_CREATE),
        update: Some(invoices::ITEM_UPDATE),
        delete: Delete::Stub,
    },
    Spec {
        name: "quotes",
        object: "quote",
        prefix: "qt",
        event: "quote",
        create: Some(quotes::CREATE),
        update: Some(quotes::UPDATE),
        delete: Delete::No,
    },
    Spec { name: "events", object: "event", prefix: "evt", event: "", create: None, update: None, delete: Delete::No },
    // Simple resources handled generically (any parameter is stored as a field).
    Spec {
        name: "tax_rates",
        object: "tax_rate",
        prefix: "txr",
        event: "tax_rate",
        create: Some(ANY),
        update: Some(ANY),
        delete: Delete::No,
    },
    Spec {
        name: "shipping_rates",
        object: "shipping_rate",
        prefix: "shr",
        event: "shipping_rate",
        create: Some(ANY),
        update: Some(ANY),
        delete: Delete::No,
    },
    Spec {
        name: "promotion_codes",
        object: "promotion_code",
        prefix: "promo",
        event: "promotion_code",
        create: Some(ANY),
        update: Some(ANY),
        delete: Delete::No,
    },
    Spec {
        name: "setup_intents",
        object: "setup_intent",
        prefix: "seti",
        event: "setup_intent",
        create: Some(ANY),
        update: Some(ANY),
        delete: Delete::No,
    },
    Spec {
        name: "webhook_endpoints",
        object: "webhook_endpoint",
        prefix: "we",
        event: "",
        create: Some(ANY),
        update: Some(ANY),
        delete: Delete::Stub,
    },
    Spec {
        name: "plans",
        object: "plan",
        prefix: "plan",
        event: "plan",
        create: Some(ANY),
        update: Some(ANY),
        delete: Delete::Stub,
    },
];

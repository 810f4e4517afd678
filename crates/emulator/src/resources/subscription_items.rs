//! Subscription items: create, update and delete, kept in step with their subscription.

use super::billing::{item_object, recurring_price, sync_items};
use super::{commit_new, spec};
use crate::errors::{ApiError, ApiResult};
use crate::params::Params;
use crate::store::State;
use serde_json::{Map, Value};

/// Subscription item create parameters.
pub const ITEM_CREATE: &[&str] = &[
    "subscription",
    "price",
    "price_data",
    "quantity",
    "metadata",
    "billing_thresholds",
    "payment_behavior",
    "proration_behavior",
    "proration_date",
    "tax_rates",
];
/// Subscription item update parameters.
pub const ITEM_UPDATE: &[&str] = &[
    "price",
    "price_data",
    "quantity",
    "metadata",
    "billing_thresholds",
    "off_session",
    "payment_behavior",
    "proration_behavior",
    "proration_date",
    "tax_rates",
];

/// `POST /v1/subscription_items`.
pub fn create_item(state: &mut State, params: &Params) -> ApiResult<Value> {
    let sub = state.require("subscriptions", "subscription", &params.req_str("subscription")?, "subscription")?;
    if sub["status"] == "canceled" {
        return Err(ApiError::invalid("A canceled subscription cannot get new items."));
    }
    let sid = sub["id"].as_str().unwrap_or_default().to_string();
    let price = recurring_price(state, &params.req_str("price")?, "price")?;
    if !state
        .find("subscription_items", |i| i["subscription"] == sid.as_str() && i["price"]["id"] == price["id"])
        .is_empty()
    {
        return Err(ApiError::invalid_param(
            "price",
            "Cannot add multiple subscription items with the same price to one subscription.",
        ));
    }
    let it = item_object(state, &sid, &price, params.int("quantity")?.unwrap_or(1), params.get("metadata"))?;
    let out = commit_new(state, spec("subscription_items").expect("spec"), it);
    sync_items(state, &sid);
    Ok(out)
}

/// Subscription item update rules (price must be recurring).
pub fn before_item_update(
    state: &mut State,
    obj: &mut Map<String, Value>,
    params: &Params,
) -> ApiResult<Vec<&'static str>> {
    if let Some(p) = params.str("price")? {
        obj.insert("price".into(), recurring_price(state, &p, "price")?);
    }
    Ok(vec!["price", "off_session", "payment_behavior", "proration_behavior", "proration_date"])
}

/// The last item of a subscription cannot be deleted.
pub fn before_item_delete(state: &State, obj: &Value) -> ApiResult<()> {
    let sub = obj["subscription"].as_str().unwrap_or_default();
    if state.find("subscription_items", |i| i["subscription"] == sub).len() <= 1 {
        return Err(ApiError::invalid(
            "A subscription must have at least one active plan. To cancel a subscription, please use the cancel API endpoint on /v1/subscriptions.",
        ));
    }
    Ok(())
}

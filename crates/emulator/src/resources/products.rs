//! Products, prices and coupons.

use super::{base, commit_new, copy_params, require_ref, spec};
use crate::errors::{ApiError, ApiResult};
use crate::params::Params;
use crate::store::State;
use serde_json::{Map, Value, json};

/// Product create parameters.
pub const PRODUCT_CREATE: &[&str] = &[
    "id",
    "name",
    "active",
    "default_price_data",
    "description",
    "features",
    "images",
    "metadata",
    "package_dimensions",
    "shippable",
    "statement_descriptor",
    "tax_code",
    "type",
    "unit_label",
    "url",
];
/// Product update parameters.
pub const PRODUCT_UPDATE: &[&str] = &[
    "active",
    "default_price",
    "description",
    "features",
    "images",
    "metadata",
    "name",
    "package_dimensions",
    "shippable",
    "statement_descriptor",
    "tax_code",
    "unit_label",
    "url",
];
/// Price create parameters.
pub const PRICE_CREATE: &[&str] = &[
    "currency",
    "active",
    "billing_scheme",
    "currency_options",
    "custom_unit_amount",
    "lookup_key",
    "metadata",
    "nickname",
    "product",
    "product_data",
    "recurring",
    "tax_behavior",
    "tiers",
    "tiers_mode",
    "transfer_lookup_key",
    "transform_quantity",
    "unit_amount",
    "unit_amount_decimal",
];
/// Price update parameters.
pub const PRICE_UPDATE: &[&str] =
    &["active", "currency_options", "lookup_key", "metadata", "nickname", "tax_behavior", "transfer_lookup_key"];
/// Coupon create parameters.
pub const COUPON_CREATE: &[&str] = &[
    "id",
    "amount_off",
    "applies_to",
    "currency",
    "currency_options",
    "duration",
    "duration_in_months",
    "max_redemptions",
    "metadata",
    "name",
    "percent_off",
    "redeem_by",
];
/// Coupon update parameters.
pub const COUPON_UPDATE: &[&str] = &["currency_options", "metadata", "name"];

/// `POST /v1/products`.
pub fn create_product(state: &mut State, params: &Params) -> ApiResult<Value> {
    let name = params.req_str("name")?;
    let sp = spec("products").expect("spec");
    let now = state.now();
    let mut obj = base(state, sp, now);
    if let Some(id) = params.str("id")? {
        if state.get("products", &id).is_some() {
            return Err(ApiError::invalid_param("id", format!("Product already exists: {id}"))
                .with_code("resource_already_exists"));
        }
        obj.insert("id".into(), json!(id));
    }
    for (k, v) in [
        ("active", json!(true)),
        ("attributes", json!([])),
        ("default_price", Value::Null),
        ("description", Value::Null),
        ("features", json!([])),
        ("images", json!([])),
        ("name", json!(name)),
        ("package_dimensions", Value::Null),
        ("shippable", Value::Null),
        ("statement_descriptor", Value::Null),
        ("tax_code", Value::Null),
        ("type", json!("service")),
        ("unit_label", Value::Null),
        ("updated", json!(now)),
        ("url", Value::Null),
    ] {
        obj.insert(k.into(), v);
    }
    copy_params(
        &mut obj,
        params,
        &[
            "active",
            "description",
            "features",
            "images",
            "metadata",
            "package_dimensions",
            "shippable",
            "statement_descriptor",
            "tax_code",
            "type",
            "unit_label",
            "url",
        ],
    )?;
    let id = obj["id"].as_str().unwrap_or_default().to_string();
    let mut out = commit_new(state, sp, obj);
    if let Some(pd) = params.obj("default_price_data")? {
        let mut p = pd.0.clone();
        p.insert("product".into(), json!(id));
        let price = create_price(state, &Params(p))?;
        let mut prod = super::load(state, sp, &id)?;
        prod.insert("default_price".into(), price["id"].clone());
        out = super::commit_update(state, sp, prod, None);
    }
    Ok(out)
}

/// `POST /v1/prices`.
pub fn create_price(state: &mut State, params: &Params) -> ApiResult<Value> {
    let currency = params.req_str("currency")?.to_lowercase();
    let product = match (params.str("product")?, params.obj("product_data")?) {
        (Some(p), _) => require_ref(state, "products", &p, "product")?,
        (None, Some(pd)) => {
            let prod = create_product(state, &pd)?;
            prod["id"].as_str().unwrap_or_default().to_string()
        }
        (None, None) => return Err(ApiError::missing("product")),
    };
    let unit_amount = params.int("unit_amount")?;
    if unit_amount.is_some_and(|a| a < 0) {
        return Err(ApiError::invalid_param("unit_amount", "Invalid unit_amount: must be greater than or equal to 0"));
    }
    let billing_scheme = params.str("billing_scheme")?.unwrap_or_else(|| "per_unit".into());
    if unit_amount.is_none()
        && params.str("unit_amount_decimal")?.is_none()
        && billing_scheme == "per_unit"
        && !params.has("custom_unit_amount")
    {
        return Err(ApiError::missing("unit_amount"));
    }
    let recurring = match params.obj("recurring")? {
        Some(r) => {
            let interval = r.req_str("interval").map_err(|_| ApiError::missing("recurring[interval]"))?;
            if !["day", "week", "month", "year"].contains(&interval.as_str()) {
                return Err(ApiError::invalid_param(
                    "recurring[interval]",
                    "Invalid recurring[interval]: must be one of day, week, month, or year",
                ));
            }
            json!({"aggregate_usage": null, "interval": interval, "interval_count": r.int("interval_count")?.unwrap_or(1),
                   "trial_period_days": r.int("trial_period_days")?, "usage_type": r.str("usage_type")?.unwrap_or_else(|| "licensed".into())})
        }
        None => Value::Null,
    };
    let sp = spec("prices").expect("spec");
    let now = state.now();
    let mut obj = base(state, sp, now);
    let kind = if recurring.is_null() { "one_time" } else { "recurring" };
    for (k, v) in [
        ("active", json!(true)),
        ("billing_scheme", json!(billing_scheme)),
        ("currency", json!(currency)),
        ("custom_unit_amount", Value::Null),
        ("lookup_key", Value::Null),
        ("nickname", Value::Null),
        ("product", json!(product)),
        ("recurring", recurring),
        ("tax_behavior", json!("unspecified")),
        ("tiers_mode", Value::Null),
        ("transform_quantity", Value::Null),
        ("type", json!(kind)),
        ("unit_amount", json!(unit_amount)),
        ("unit_amount_decimal", unit_amount.map_or(Value::Null, |a| json!(a.to_string()))),
    ] {
        obj.insert(k.into(), v);
    }
    copy_params(
        &mut obj,
        params,
        &["active", "lookup_key", "metadata", "nickname", "tax_behavior", "tiers_mode", "custom_unit_amount"],
    )?;
    if let Some(lk) = params.str("lookup_key")?
        && !state.find("prices", |p| p["lookup_key"] == lk.as_str()).is_empty()
    {
        return Err(ApiError::invalid_param("lookup_key", format!("A price (`{lk}`) already uses that lookup key.")));
    }
    Ok(commit_new(state, sp, obj))
}

/// Validation shared by price and product updates.
pub fn before_update(
    state: &mut State,
    resource: &str,
    obj: &mut Map<String, Value>,
    params: &Params,
) -> ApiResult<Vec<&'static str>> {
    if resource == "products"
        && let Some(dp) = params.str("default_price")?
    {
        let price = state.require("prices", "price", &dp, "default_price")?;
        if price["product"] != obj["id"] {
            return Err(ApiError::invalid_param("default_price", "The price must belong to this product."));
        }
    }
    if resource == "products" && params.get("name").is_some_and(|v| v == "") {
        return Err(ApiError::invalid_param("name", "You cannot unset the name of a product."));
    }
    Ok(vec![])
}

/// A product with prices cannot be deleted (Stripe's rule).
pub fn before_delete_product(state: &State, id: &str) -> ApiResult<()> {
    if !state.find("prices", |p| p["product"] == id).is_empty() {
        return Err(ApiError::invalid(
            "This product cannot be deleted because it has one or more user-created prices.",
        ));
    }
    Ok(())
}

/// `POST /v1/coupons`.
pub fn create_coupon(state: &mut State, params: &Params) -> ApiResult<Value> {
    let percent = params.get("percent_off").is_some();
    let amount = params.int("amount_off")?;
    if percent == amount.is_some() {
        return Err(ApiError::invalid("You must pass exactly one of percent_off or amount_off."));
    }
    if amount.is_some() && params.str("currency")?.is_none() {
        return Err(ApiError::missing("currency"));
    }
    let duration = params.str("duration")?.unwrap_or_else(|| "once".into());
    if !["once", "repeating", "forever"].contains(&duration.as_str()) {
        return Err(ApiError::invalid_param(
            "duration",
            "Invalid duration: must be one of forever, once, or repeating",
        ));
    }
    if duration == "repeating" && params.int("duration_in_months")?.is_none() {
        return Err(ApiError::missing("duration_in_months"));
    }
    let sp = spec("coupons").expect("spec");
    let now = state.now();
    let mut obj = base(state, sp, now);
    let id = match params.str("id")? {
        Some(id) if state.get("coupons", &id).is_some() => {
            return Err(ApiError::invalid_param("id", "Coupon already exists.").with_code("resource_already_exists"));
        }
        Some(id) => id,
        None => state.random(8).to_uppercase(),
    };
    obj.insert("id".into(), json!(id));
    for (k, v) in [
        ("amount_off", Value::Null),
        ("currency", Value::Null),
        ("duration", json!(duration)),
        ("duration_in_months", Value::Null),
        ("max_redemptions", Value::Null),
        ("name", Value::Null),
        ("percent_off", Value::Null),
        ("redeem_by", Value::Null),
        ("times_redeemed", json!(0)),
        ("valid", json!(true)),
    ] {
        obj.insert(k.into(), v);
    }
    copy_params(
        &mut obj,
        params,
        &[
            "amount_off",
            "currency",
            "duration_in_months",
            "max_redemptions",
            "metadata",
            "name",
            "percent_off",
            "redeem_by",
        ],
    )?;
    if let Some(p) = obj["percent_off"].as_f64()
        && !(0.0..=100.0).contains(&p)
    {
        return Err(ApiError::invalid_param("percent_off", "Invalid percent_off: must be between 0 and 100"));
    }
    Ok(commit_new(state, sp, obj))
}

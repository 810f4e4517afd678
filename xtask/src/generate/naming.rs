//! Table and action names derived from paths (`/v1/issuing/cards` → `issuing_cards`,
//! `/v1/invoices/{invoice}/lines` → `invoice_lines`).

use super::spec::is_param;

/// The segments of a path after `/v1`.
pub fn segments(path: &str) -> Vec<&str> {
    path.trim_start_matches("/v1/").split('/').filter(|s| !s.is_empty()).collect()
}

/// Naive English singular used for path segments (`invoices` → `invoice`).
pub fn singular(word: &str) -> String {
    word.strip_suffix('s').unwrap_or(word).to_string()
}

/// Default table name of a list path: namespaced paths join their segments;
/// nested paths prefix the singular parent (`customer_tax_ids`).
pub fn table_name(path: &str) -> String {
    let segs = segments(path);
    match segs.iter().rposition(|s| is_param(s)) {
        None => segs.join("_"),
        Some(i) => {
            let parent: Vec<&str> = segs[..i].iter().copied().filter(|s| !is_param(s)).collect();
            let rest = segs[i + 1..].join("_");
            format!("{}_{}", singular(&parent.join("_")), rest)
        }
    }
}

/// Default `(verb, name)` of an action path `/v1/x/{id}/verb` or `/v1/x/{id}/sub/verb`.
pub fn action_name(path: &str) -> Option<(String, String)> {
    let segs = segments(path);
    let i = segs.iter().position(|s| is_param(s))?;
    let after = &segs[i + 1..];
    let verb = after.last()?.to_string();
    let mut object = singular(&segs[..i].join("_"));
    for middle in &after[..after.len() - 1] {
        object.push('_');
        object.push_str(middle);
    }
    Some((verb.clone(), format!("{verb}_{object}")))
}

/// `path` with its (only) placeholder replaced by `{id}`.
pub fn with_id_placeholder(path: &str) -> String {
    path.split('/').map(|s| if is_param(s) { "{id}" } else { s }).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_from_paths() {
        assert_eq!(table_name("/v1/customers"), "customers");
        assert_eq!(table_name("/v1/issuing/cards"), "issuing_cards");
        assert_eq!(table_name("/v1/customers/{customer}/balance_transactions"), "customer_balance_transactions");
        assert_eq!(table_name("/v1/checkout/sessions/{session}/line_items"), "checkout_session_line_items");
    }

    #[test]
    fn action_names_from_paths() {
        assert_eq!(
            action_name("/v1/payment_intents/{intent}/capture"),
            Some(("capture".into(), "capture_payment_intent".into()))
        );
        assert_eq!(
            action_name("/v1/issuing/authorizations/{a}/approve"),
            Some(("approve".into(), "approve_issuing_authorization".into()))
        );
        assert_eq!(
            action_name("/v1/charges/{charge}/dispute/close"),
            Some(("close".into(), "close_charge_dispute".into()))
        );
        assert_eq!(with_id_placeholder("/v1/quotes/{quote}/accept"), "/v1/quotes/{id}/accept");
    }
}

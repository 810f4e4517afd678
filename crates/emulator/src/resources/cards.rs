//! Stripe's test cards, test PaymentMethods (`pm_card_visa`) and tokens (`tok_visa`),
//! and what happens when they are charged.

use crate::errors::ApiError;
use serde_json::{Value, json};

/// What a card does when attached or charged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Behaviour {
    /// Always succeeds.
    Ok,
    /// Declined on attach and on charge.
    Decline(&'static str, &'static str, &'static str),
    /// Attaches fine, declines every charge.
    ChargeFails,
    /// Charge succeeds, then is disputed.
    Dispute,
}

/// One test card.
#[derive(Debug, Clone, Copy)]
pub struct TestCard {
    /// Name used in `pm_card_<name>` / `tok_<name>`.
    pub name: &'static str,
    /// Full number.
    pub number: &'static str,
    /// Brand.
    pub brand: &'static str,
    /// Funding type.
    pub funding: &'static str,
    /// Behaviour.
    pub behaviour: Behaviour,
}

const GENERIC: Behaviour = Behaviour::Decline("card_declined", "generic_decline", "Your card was declined.");

/// The supported test cards.
pub const CARDS: &[TestCard] = &[
    TestCard { name: "visa", number: "4242424242424242", brand: "visa", funding: "credit", behaviour: Behaviour::Ok },
    TestCard {
        name: "visa_debit",
        number: "4000056655665556",
        brand: "visa",
        funding: "debit",
        behaviour: Behaviour::Ok,
    },
    TestCard {
        name: "mastercard",
        number: "5555555555554444",
        brand: "mastercard",
        funding: "credit",
        behaviour: Behaviour::Ok,
    },
    TestCard { name: "amex", number: "378282246310005", brand: "amex", funding: "credit", behaviour: Behaviour::Ok },
    TestCard {
        name: "discover",
        number: "6011111111111117",
        brand: "discover",
        funding: "credit",
        behaviour: Behaviour::Ok,
    },
    TestCard {
        name: "chargeDeclined",
        number: "4000000000000002",
        brand: "visa",
        funding: "credit",
        behaviour: GENERIC,
    },
    TestCard {
        name: "chargeDeclinedInsufficientFunds",
        number: "4000000000009995",
        brand: "visa",
        funding: "credit",
        behaviour: Behaviour::Decline("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    },
    TestCard {
        name: "chargeDeclinedLostCard",
        number: "4000000000009987",
        brand: "visa",
        funding: "credit",
        behaviour: Behaviour::Decline("card_declined", "lost_card", "Your card was declined."),
    },
    TestCard {
        name: "chargeDeclinedExpiredCard",
        number: "4000000000000069",
        brand: "visa",
        funding: "credit",
        behaviour: Behaviour::Decline("expired_card", "expired_card", "Your card has expired."),
    },
    TestCard {
        name: "chargeCustomerFail",
        number: "4000000000000341",
        brand: "visa",
        funding: "credit",
        behaviour: Behaviour::ChargeFails,
    },
    TestCard {
        name: "createDispute",
        number: "4000000000000259",
        brand: "visa",
        funding: "credit",
        behaviour: Behaviour::Dispute,
    },
];

/// The test card named by `pm_card_x` / `tok_x` (also `tok_visa_debit`, ...).
pub fn by_magic_id(id: &str) -> Option<&'static TestCard> {
    let name = id.strip_prefix("pm_card_").or_else(|| id.strip_prefix("tok_"))?;
    CARDS.iter().find(|c| c.name == name)
}

/// The test card with this number (unknown numbers behave like a plain Visa).
pub fn by_number(number: &str) -> Option<&'static TestCard> {
    let digits: String = number.chars().filter(|c| c.is_ascii_digit()).collect();
    CARDS.iter().find(|c| c.number == digits)
}

/// The `card` hash of a payment method / charge for this card.
pub fn card_hash(card: &TestCard, exp_month: i64, exp_year: i64) -> Value {
    let last4 = &card.number[card.number.len() - 4..];
    json!({
        "brand": card.brand, "checks": {"address_line1_check": null, "address_postal_code_check": null, "cvc_check": "pass"},
        "country": "US", "exp_month": exp_month, "exp_year": exp_year,
        "fingerprint": format!("fp{}{}", card.name.len(), last4), "funding": card.funding, "last4": last4,
        "networks": {"available": [card.brand], "preferred": null},
        "three_d_secure_usage": {"supported": true}, "wallet": null
    })
}

/// The decline error for a card behaviour, if it declines charges.
pub fn charge_error(b: Behaviour) -> Option<ApiError> {
    match b {
        Behaviour::Decline(code, decline, msg) => Some(ApiError::card(code, Some(decline), msg)),
        Behaviour::ChargeFails => {
            Some(ApiError::card("card_declined", Some("generic_decline"), "Your card was declined."))
        }
        _ => None,
    }
}

/// The decline error when attaching a card, if it declines attachment.
pub fn attach_error(b: Behaviour) -> Option<ApiError> {
    match b {
        Behaviour::Decline(code, decline, msg) => Some(ApiError::card(code, Some(decline), msg)),
        _ => None,
    }
}

//! The Stripe HTTP client. Knows nothing of SQL or Arrow.

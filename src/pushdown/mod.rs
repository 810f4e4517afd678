//! Pure translation of DataFusion filter expressions into a Stripe request plan.

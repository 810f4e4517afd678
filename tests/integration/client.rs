//! The Stripe HTTP client against a local scripted server on 127.0.0.1, and the
//! binary's command-line behaviour.

mod cli;
mod errors;
mod headers;
mod limiter;
mod pagination;
mod retries;
mod secrecy;
mod server;

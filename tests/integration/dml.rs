//! INSERT / UPDATE / DELETE against the emulator: each verb, nested params,
//! validation, every refusal (with zero writes sent), dry run, live keys,
//! partial failure and idempotent retries.

mod peer;
mod safety;
mod support;
mod verbs;

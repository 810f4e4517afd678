//! The one integration-test binary (one link of DataFusion instead of many).
//! Each component adds a module here.
mod client;

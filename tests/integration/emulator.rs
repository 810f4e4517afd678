//! Integration tests of the built-in Stripe emulator, over real HTTP with reqwest.

#[path = "emulator_support.rs"]
mod support;

#[path = "emulator_lists.rs"]
mod lists;

#[path = "emulator_crud.rs"]
mod crud;

#[path = "emulator_flows.rs"]
mod flows;

#[path = "emulator_faults.rs"]
mod faults;

#[path = "emulator_demo.rs"]
mod demo;

#[path = "emulator_peer.rs"]
mod peer;

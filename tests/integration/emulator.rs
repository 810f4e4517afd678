//! Integration tests of the built-in Stripe emulator, over real HTTP with reqwest.

mod support;

mod lists;

mod crud;

mod flows;

mod faults;

mod demo;

mod peer;

mod connect;

//! `stripe-sql watch` and the `events` table against the emulator: exactly-once
//! delivery across polls, same-second bursts and restarts, `--changes`, the call
//! budget, and the command line (real binary, SIGTERM, state file).

mod budget;
mod changes;
mod cli;
mod events;
mod polls;
mod repl;
mod soak;
mod support;

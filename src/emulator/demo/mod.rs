//! Deterministic demo data (placeholder until the generator lands).

use super::store::State;

/// Fills `state` with the demo account.
pub fn generate(state: &mut State, seed: u64, scale: u32) {
    let _ = (state, seed, scale);
}

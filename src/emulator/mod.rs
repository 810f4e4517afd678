//! The built-in fake Stripe over real HTTP (demo mode, tests, benches).

pub mod args;

pub use args::EmulatorArgs;

/// Runs the emulator in the foreground until Ctrl-C (`stripe-sql emulator ...`).
pub async fn run_standalone(args: EmulatorArgs) -> crate::Result<()> {
    let _ = args;
    Err(crate::Error::Config("the emulator is not built yet".into()))
}

//! `stripe-emulator`: the built-in fake Stripe API on its own, for trying
//! clients against it without stripe-sql (`stripe-sql emulator` is the same).

use clap::Parser;

/// The emulator's command line: the flags of `stripe-sql emulator`.
#[derive(Debug, Parser)]
#[command(name = "stripe-emulator", version, about = "A fake Stripe API over HTTP with demo data")]
struct Cli {
    #[command(flatten)]
    args: stripe_emulator::EmulatorArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match stripe_emulator::run_standalone(cli.args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stripe-emulator: {e}");
            std::process::ExitCode::from(2)
        }
    }
}

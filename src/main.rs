//! The `stripe-sql` binary: parse the command line, run, map errors to exit codes.

fn main() {
    eprintln!("stripe-sql: not built yet");
    std::process::exit(2);
}

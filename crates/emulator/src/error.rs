//! The emulator's own failures: it could not start (bad settings, a port in use).

/// Result alias of the emulator crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why the emulator could not start or run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad settings (flags of `stripe-sql emulator`, an address that cannot be bound).
    #[error("configuration error: {0}")]
    Config(String),
    /// I/O while serving.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

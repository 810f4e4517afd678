//! One error type for the crate, bridged to DataFusion's error.

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every failure the engine reports, with a lower-case message that says what was
/// attempted and why it failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad configuration (key, flags, config file).
    #[error("configuration error: {0}")]
    Config(String),
    /// A statement that cannot run as written (validation before any API call).
    #[error("{0}")]
    Plan(String),
    /// An error from the query engine.
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    /// A call to the Stripe API failed.
    #[error(transparent)]
    Stripe(#[from] crate::stripe::ApiError),
    /// The built-in emulator could not start.
    #[cfg(feature = "demo")]
    #[error(transparent)]
    Emulator(#[from] stripe_emulator::Error),
    /// The local mirror (`sync`) could not be read or written.
    #[error("mirror: {0}")]
    Mirror(String),
    /// Arrow could not build or convert a batch.
    #[error(transparent)]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    /// I/O outside the HTTP client (files, terminal).
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<Error> for datafusion::error::DataFusionError {
    fn from(e: Error) -> Self {
        match e {
            Error::DataFusion(d) => d,
            other => datafusion::error::DataFusionError::External(Box::new(other)),
        }
    }
}

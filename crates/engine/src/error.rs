//! One error type for the crate, bridged to DataFusion's error.

use datafusion::error::DataFusionError;

use crate::stripe::ApiError;

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

impl Error {
    /// The Stripe API error this is or wraps, if any.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Stripe(api) => Some(api),
            Error::DataFusion(d) => api_error_in(d),
            _ => None,
        }
    }
}

/// The Stripe error inside `e`, if any (DataFusion wraps it in External,
/// Context, Shared or Arrow's ExternalError, sometimes around this crate's [`Error`]).
pub fn api_error_in(e: &DataFusionError) -> Option<&ApiError> {
    let mut current = e;
    loop {
        match current {
            DataFusionError::External(inner) => {
                if let Some(api) = inner.downcast_ref::<ApiError>() {
                    return Some(api);
                }
                if let Some(Error::Stripe(api)) = inner.downcast_ref::<crate::Error>() {
                    return Some(api);
                }
                if let Some(Error::DataFusion(df)) = inner.downcast_ref::<crate::Error>() {
                    current = df;
                    continue;
                }
                if let Some(df) = inner.downcast_ref::<DataFusionError>() {
                    current = df;
                    continue;
                }
                return None;
            }
            DataFusionError::Context(_, inner) => current = inner,
            DataFusionError::Shared(inner) => current = inner,
            DataFusionError::ArrowError(inner, _) => match inner.as_ref() {
                datafusion::arrow::error::ArrowError::ExternalError(ext) => {
                    if let Some(df) = ext.downcast_ref::<DataFusionError>() {
                        current = df;
                    } else if let Some(api) = ext.downcast_ref::<ApiError>() {
                        return Some(api);
                    } else {
                        return None;
                    }
                }
                _ => return None,
            },
            _ => return None,
        }
    }
}

impl From<Error> for datafusion::error::DataFusionError {
    fn from(e: Error) -> Self {
        match e {
            Error::DataFusion(d) => d,
            other => datafusion::error::DataFusionError::External(Box::new(other)),
        }
    }
}

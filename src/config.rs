//! Layered configuration: defaults < config file < environment < flags.

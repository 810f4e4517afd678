//! dml (not built yet).

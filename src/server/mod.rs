//! server (not built yet).

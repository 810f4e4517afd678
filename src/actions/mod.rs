//! actions (not built yet).

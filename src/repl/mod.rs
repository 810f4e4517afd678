//! repl (not built yet).

//! Unit tests of the pushdown planner.

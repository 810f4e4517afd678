//! Unit tests of the pushdown planner, one file per concern, over hand-made tables.

mod events;
mod fixture;
mod fuzz;
mod limit;
mod list;
mod nested;
mod props;
mod range;
mod retrieve;
mod search;
mod semantics;
mod shapes;
mod sql_planned;

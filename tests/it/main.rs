//! forksim's integration tests: one test binary made of modules.

mod attacks;
mod browser;
mod cli;
mod determinism;
mod double_spend;
mod golden;
mod published;
mod race;
mod races;
mod results_folders;
mod scenario_errors;
mod support;
mod sweeps;
mod transactions;

//! forksim's integration tests: one test binary made of modules.

mod attacks;
mod browser;
mod cli;
mod compare;
mod determinism;
mod double_spend;
mod fuzz_chain;
mod fuzz_common;
mod fuzz_folder;
mod fuzz_results;
mod fuzz_scenario;
mod fuzz_sweeps;
mod golden;
mod long_range;
mod narrate_stake;
mod nothing_at_stake;
mod pos_slot_races;
mod published;
mod race;
mod races;
mod results_folders;
mod scenario_errors;
mod support;
mod sweeps;
mod transactions;

//! forksim: a deterministic discrete-event simulator of proof-of-work blockchain networks.
//!
//! Hundreds to thousands of virtual nodes, each with its own hash power, links, latency and
//! bandwidth, run Bitcoin-style block logic (SHA-256d headers against a target, Merkle
//! roots, most-work chain selection with reorgs, difficulty retargeting) on a seeded
//! virtual clock.
//!
//! # Using it as a library
//!
//! A scenario is TOML text (a file, or a string built in code); [`run::run`] runs it and
//! returns its [`results::Outcome`], from which the metrics of DESIGN.md are read, and from
//! which [`results::files`] renders every result file:
//!
//! ```
//! use std::path::Path;
//!
//! let text = "[run]\nblocks = 30\n[chain]\nblock_interval_s = 10\n[network]\nnodes = 40\n";
//! let scenario = forksim::scenario::from_str(text, Path::new("example.toml"), &[], Some(1))?;
//! let outcome = forksim::run::run(&scenario)?;
//! assert_eq!(outcome.blocks_mined, 30);
//! println!("stale rate {:.2} %", 100.0 * outcome.stale_rate());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `examples/library.rs` runs one network at three block intervals this way.
//!
//! # Module map
//!
//! | module | job |
//! |---|---|
//! | [`scenario`] | scenario files: parsing, `--set` overrides, validation with precise errors |
//! | [`run`] | the one pipeline: a scenario's kind (race, trials, network run) and its outcome |
//! | [`results`] | what a finished run leaves: the outcome, result files, summary, report, trace |
//! | [`observe`] | read-only records of what happens, and the observers that learn from them |
//! | [`world`] | assembles the nodes of a scenario and routes events between them |
//! | [`node`] | what a node does: relay, validation, chain selection, mining; honest and attacker protocols |
//! | [`network`] | peer graphs, regions, latency, bandwidth, messages on the wire, faults |
//! | [`chain`] | hashes, headers, Merkle roots, transactions, UTXO, targets, validation, the block store |
//! | [`payments`] | wallets, the shared transaction pool (each mempool a view of it), the workload |
//! | [`engine`] | the event queue ordered by (time, sequence) and the run loop; knows nothing of blocks |
//! | [`mining`] | hash power and block templates |
//! | [`analytic`], [`race`], [`race_report`] | closed forms; races without a network |
//! | [`sweep`], [`experiment`] | parameter sweeps over seeds: parallel, resumable, sharded |
//! | [`figures`], [`replay_page`] | figures drawn from result files; the self-contained replay page |
//! | [`time`], [`rng`], [`id`] | integer virtual time; seeded streams per purpose; typed node and link ids |
//! | [`cli`], [`bench`](mod@bench) | the command line; whole-run benchmarks |
//!
//! # Determinism contract
//!
//! The same scenario, seed and binary give byte-identical result files:
//! - virtual time is an integer; the queue orders by (time, sequence number), FIFO on ties;
//! - every random draw comes from a stream keyed by (master seed, purpose, index), so one
//!   more draw in one place never shifts another;
//! - no iteration over hash-ordered collections in logic, no wall clock and no threads
//!   inside a run; floating-point distributions use the pure-Rust `libm`.

pub mod analytic;
pub mod bench;
pub mod chain;
pub mod cli;
pub mod engine;
pub mod experiment;
pub mod figures;
pub mod id;
pub mod mining;
pub mod network;
pub mod node;
pub mod observe;
pub mod payments;
pub mod race;
pub mod race_report;
pub mod replay_page;
pub mod results;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod sweep;
pub mod time;
pub mod world;

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
//! # The public API
//!
//! | module | what a program uses it for |
//! |---|---|
//! | [`scenario`] | load a scenario file or text, apply `--set`-style overrides; errors name file, field and value |
//! | [`run`] | run a scenario: its [`run::Kind`] (race, trials, network run), [`run::run`] and [`run::run_with`] (with any observer), trials, races |
//! | [`results`] | the [`results::Outcome`] of a run; result files, `summary.json`, the terminal report, the trace; CSV rows read back by column name |
//! | [`observe`] | the [`observe::Record`]s of a run, the [`observe::Observer`] trait, metrics and narration |
//! | [`analytic`] | closed forms: double-spend success, selfish-mining revenue, two-miner stale rate |
//! | [`consensus`] | the consensus seam and the per-kind rules: Praos slot lottery with a real VRF, coin-age, DPoS schedule and irreversibility, PoET timers, producer concentration |
//! | [`chain`] | hashes, headers, Merkle roots, transactions, UTXO, targets and work, validation, the block store |
//! | [`network`] | network specs and graphs, regions and measured presets, messages and their wire sizes, faults |
//! | [`engine`] | the event queue ordered by (time, sequence) and the run loop |
//! | [`time`], [`id`] | integer virtual time; typed node and link ids |
//!
//! # Inside
//!
//! The rest is the crate's own: `world` assembles a scenario's nodes and routes events
//! between them; `node` is what a node does over its `NodeCtx` (relay, validation, chain
//! selection, its mining clock and mempool view) and the protocols it asks (honest,
//! attackers, the merchant role); `payments` holds wallets, the shared transaction pool and
//! the workload; `mining` hash power and block templates; `rng` the seeded streams;
//! `race` and `race_report` the races without a network; `sweep` and `experiment` parameter
//! sweeps; `figures` and `replay_page` what is drawn from result files; `cli` and `bench`
//! the command line.
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
pub(crate) mod bench;
pub mod chain;
#[doc(hidden)]
pub mod cli;
pub mod compare;
pub mod consensus;
pub mod crash;
pub(crate) mod driver;
pub mod engine;
pub(crate) mod experiment;
// Public (and hidden) so the fuzz tests can draw from damaged result folders in-process.
#[doc(hidden)]
pub mod figures;
pub mod id;
pub(crate) mod mining;
pub mod network;
pub(crate) mod node;
pub mod observe;
pub(crate) mod payments;
pub(crate) mod race;
pub(crate) mod race_report;
pub(crate) mod replay_page;
pub mod results;
pub(crate) mod rng;
pub mod run;
pub mod scenario;
// Public (and hidden) so the fuzz tests can merge and read damaged sweep folders in-process.
#[doc(hidden)]
pub mod sweep;
pub mod time;
pub(crate) mod world;

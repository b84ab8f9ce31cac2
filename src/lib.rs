//! forksim: a deterministic discrete-event simulator of proof-of-work blockchain networks.
//!
//! Hundreds to thousands of virtual nodes, each with its own hash power, links, latency and
//! bandwidth, run Bitcoin-style block logic (SHA-256d headers against a target, Merkle
//! roots, most-work chain selection with reorgs, difficulty retargeting) on a seeded
//! virtual clock.
//!
//! # Module map
//!
//! | module | job |
//! |---|---|
//! | [`time`] | integer virtual time (microseconds) |
//! | [`analytic`] | closed forms: Nakamoto's and the exact double-spend race, selfish-mining revenue, two-miner stale rate |
//! | [`race`], [`race_report`] | fast no-network Monte Carlo of double-spend races and selfish mining; race scenarios |
//! | [`rng`] | one ChaCha stream per (purpose, index), derived from the master seed |
//! | [`engine`] | the event queue ordered by (time, sequence) and the run loop; knows nothing of blocks |
//! | [`chain`] | hashes, headers, Merkle roots, compact targets, work, retargeting, validation, the shared block store |
//! | [`network`] | peer graphs, regions, link latency, bandwidth |
//! | [`node`] | a node's view of the chain and the relay messages with their wire sizes |
//! | [`mining`] | hash power, sampled and ground mining, block templates |
//! | [`world`] | the nodes of a run, assembled from a scenario, and the routing of events between them |
//! | [`node::protocol`], [`node::attacker`] | honest and attacker behaviour behind one trait: private chain, selfish mining, tie-breaks |
//! | [`network::faults`] | the timeline's partitions, heals, leaves and rejoins |
//! | [`observe`] | read-only records, metrics and result files |
//! | [`results`] | what a finished run writes: one struct per CSV row, written and read by column name |
//! | [`sweep`], [`experiment`] | parameter sweeps over seeds: parallel, resumable, sharded and merged; one run's metrics |
//! | [`figures`], [`figures::tree`], [`figures::sweep`] | figures drawn from the result files alone: run figures, the block tree, sweep figures |
//! | [`replay_page`] | `replay.html`: one self-contained page that plays a run back in a browser |
//! | [`scenario`] | scenario files: parsing, `--set` overrides, validation |
//! | [`results::report`], [`cli`], [`bench`](mod@bench) | the terminal summary, the command line, whole-run benchmarks |
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

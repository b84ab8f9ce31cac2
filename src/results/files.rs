//! Result files: tidy CSVs, `summary.json` and `manifest.json`, written atomically.
//!
//! Every file is first rendered in memory, then written to a temporary name in the results
//! folder, flushed to disk and renamed into place, so an interrupted run never leaves a
//! half-written file under a final name. `manifest.json` is written last and holds the
//! SHA-256 of every other file: a results folder whose files do not match its manifest did
//! not finish. Nothing in these files depends on the wall clock, so the same scenario and
//! seed give the same bytes.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::attack::{AttackSection, RunView, summarize};
use crate::chain::RejectReason;
use crate::engine::StopReason;
use crate::network::message::MessageKind;
use crate::network::traffic::Traffic;
use crate::node::relay::RequestTimeouts;
use crate::observe::metrics::Metrics;
use crate::observe::metrics::{CDF_PERCENTS, MinerShare, P50_P90_P100, Spread};
use crate::observe::metrics::{block_row, propagation_row};
use crate::results::Outcome;
use crate::results::rows::{Fixed, Millis, MinerRow, PropagationCdfRow, ReorgRow};
use crate::results::sink::{MemorySink, Sink, write_bytes, write_csv, write_csv_after};
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};

/// Formats microseconds as milliseconds with three decimals, exactly.
pub fn format_ms(us: u64) -> String {
    Millis::from_micros(us).to_string()
}

/// Propagation summary for the three node shares.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PropagationSummary {
    /// Time until 50 % of nodes held a block.
    pub to_50_percent: Spread,
    /// Time until 90 % of nodes held a block.
    pub to_90_percent: Spread,
    /// Time until every node held a block.
    pub to_100_percent: Spread,
}

/// Bytes moved over the network (see [`crate::network::traffic`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrafficSummary {
    /// Bytes that left their senders, by message kind (kinds never sent are left out).
    pub bytes_sent: BTreeMap<&'static str, u64>,
    /// Bytes that reached their receivers (sent minus lost on cut links).
    pub bytes_received: u64,
    /// Mean over nodes of the bytes each node sent and received, per block mined, in kB
    /// (1000 bytes).
    pub per_node_kb_per_block: f64,
    /// The same over blocks mined times `chain.block_interval_s`, in kbit/s: Gervais et
    /// al.'s "total average traffic/node".
    pub per_node_kbit_s: f64,
}

impl TrafficSummary {
    fn of(traffic: &Traffic, nodes: u32, blocks: u64, interval_s: f64) -> TrafficSummary {
        TrafficSummary {
            bytes_sent: MessageKind::ALL
                .iter()
                .map(|&k| (k.wire_name(), traffic.sent(k)))
                .filter(|(_, b)| *b > 0)
                .collect(),
            bytes_received: traffic.received_total(),
            per_node_kb_per_block: traffic.per_node_bytes(nodes) / 1000.0 / blocks.max(1) as f64,
            per_node_kbit_s: traffic.per_node_kbit_s(nodes, blocks, interval_s),
        }
    }
}

/// Whether the network kept up with its blocks (see [`crate::observe::backlog::Backlog`]): the work
/// pending (messages queued at senders or on their way, validations under way) each time a
/// block was found, and how long what was pending at the last block took to finish.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BacklogSummary {
    /// Mean pending work at the blocks found in the first half of the run.
    pub pending_mean_first_half: Option<f64>,
    /// The same over the second half: well above the first half, the backlog grew.
    pub pending_mean_second_half: Option<f64>,
    /// Pending work when the last block was found.
    pub pending_at_last_block: Option<u32>,
    /// Virtual seconds from the last block found to the end of the run: the time the work
    /// pending then took to finish (or until the drain cap, if `pending_at_end` > 0).
    pub drain_s: Option<f64>,
    /// Work still pending when the run ended (cut short by `run.drain_s` or a hard cap).
    pub pending_at_end: u64,
    /// Nodes whose uplink, when mining stopped, held more uploads than it could send in one
    /// block interval (`chain.block_interval_s`) at its upload rate.
    pub senders_behind: usize,
    /// The longest time an uplink would take to send what it held when mining stopped.
    pub longest_upload_queue_s: f64,
    /// Whether the backlog grew: the second half's mean is over twice the first half's and
    /// over one piece of work per node. Some senders then fall further behind the longer
    /// the run (the median node may still keep up).
    pub grew: bool,
}

impl BacklogSummary {
    fn of(
        backlog: &crate::observe::backlog::Backlog,
        end: SimTime,
        nodes: u32,
        block_interval_s: f64,
    ) -> BacklogSummary {
        let halves = backlog.half_means();
        BacklogSummary {
            pending_mean_first_half: halves.map(|h| h.0),
            pending_mean_second_half: halves.map(|h| h.1),
            pending_at_last_block: backlog.at_last_block(),
            drain_s: backlog.last_found().map(|t| (end - t).as_secs_f64()),
            pending_at_end: backlog.pending_at_end(),
            senders_behind: backlog
                .uploads_queued_over(SimDuration::from_secs_f64(block_interval_s)),
            longest_upload_queue_s: backlog.longest_upload_queue().as_secs_f64(),
            grew: backlog.grew(nodes),
        }
    }
}

/// What request timeouts did (`network.relay.request_timeout_s`), summed over nodes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RequestTimeoutSummary {
    /// The counts.
    #[serde(flatten)]
    pub counts: RequestTimeouts,
    /// Both counts, per node and per block mined.
    pub per_node_per_block: f64,
}

impl RequestTimeoutSummary {
    fn of(nodes: &[super::outcome::NodeOutcome], blocks: u64) -> RequestTimeoutSummary {
        let mut counts = RequestTimeouts::default();
        for node in nodes {
            counts.add(node.request_timeouts);
        }
        let fired = (counts.asked_again + counts.lapsed) as f64;
        RequestTimeoutSummary {
            counts,
            per_node_per_block: fired / nodes.len().max(1) as f64 / blocks.max(1) as f64,
        }
    }
}

/// Reorg summary.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReorgSummary {
    /// Reorgs over all nodes.
    pub count: u64,
    /// Deepest reorg (blocks disconnected).
    pub max_depth: u32,
    /// Nodes that reorganised at least once.
    pub nodes_affected: u64,
    /// Blocks refused because their branch leaves the final chain deeper than
    /// `chain.prune_depth` below the tip: reorgs the pruned nodes could not make (listed
    /// only when there were any).
    #[serde(skip_serializing_if = "is_zero")]
    pub refused_below_prune_depth: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// The run's headline figures (`summary.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Scenario name.
    pub scenario: String,
    /// Master seed.
    pub seed: u64,
    /// Why the run ended.
    pub stopped_by: StopReason,
    /// Events processed.
    pub events: u64,
    /// Virtual time at the end, in seconds.
    pub virtual_time_s: f64,
    /// Nodes in the network.
    pub nodes: u32,
    /// Nodes with hash power.
    pub miners: u32,
    /// Directed links (twice the connections).
    pub links: u64,
    /// Blocks mined, stale included.
    pub blocks_mined: u64,
    /// Height of the final most-work chain.
    pub main_chain_height: u32,
    /// Blocks left out of the stale rate at the end.
    pub settle_blocks: u64,
    /// Blocks the stale rate is computed over.
    pub blocks_counted: u64,
    /// Of those, blocks not in the final main chain.
    pub stale_blocks: u64,
    /// stale_blocks / blocks_counted.
    pub stale_rate: f64,
    /// Mean time between main-chain blocks, in seconds.
    pub mean_block_interval_s: f64,
    /// Propagation of blocks through the network.
    pub propagation_ms: PropagationSummary,
    /// Over nodes, the median of each node's mean delay from a block's mining to its
    /// accepting it (Gervais et al.'s "median block propagation time"), in milliseconds.
    pub node_mean_delay_median_ms: Option<f64>,
    /// Over every (block, node) pair: the median and the mean delay from a block's mining to
    /// the node's accepting it, in milliseconds (Decker and Wattenhofer's measure).
    pub pair_delay_median_ms: Option<f64>,
    /// See `pair_delay_median_ms`.
    pub pair_delay_mean_ms: Option<f64>,
    /// Bytes moved over the network.
    pub traffic: TrafficSummary,
    /// What request timeouts did, when the relay's requests time out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_timeouts: Option<RequestTimeoutSummary>,
    /// Whether the network kept up with its blocks.
    pub backlog: BacklogSummary,
    /// Reorgs.
    pub reorgs: ReorgSummary,
    /// Blocks rejected by nodes, by Bitcoin Core reject reason (the reasons added with the
    /// invalid-data attacker, `bad-txns-duplicate` and `prev-blk-not-found`, only when
    /// counted).
    pub rejected: BTreeMap<String, u64>,
    /// Hash share against revenue share, per miner, in node order.
    pub miners_detail: Vec<MinerShare>,
    /// The double spend against a merchant, when the scenario has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub double_spend: Option<super::double_spend::DoubleSpendSummary>,
    /// Payments, fees, confirmation latency and mempools, in runs with a workload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transactions: Option<super::transactions::TransactionSummary>,
    /// Attackers, eclipse and timeline, when the scenario has any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attack: Option<AttackSection>,
    /// What `invalid` attackers sent and what honest nodes did with it, when the scenario
    /// has such an attacker.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid_data: Option<super::invalid_data::InvalidDataSummary>,
}

/// Everything a run writes, rendered in memory.
pub struct Rendered {
    /// The summary, also rendered as `summary.json`.
    pub summary: Summary,
    /// (file name, bytes) in writing order; the manifest is added when writing.
    pub files: Vec<(&'static str, Vec<u8>)>,
}

/// Renders the result files of a finished run in memory.
pub fn render<O: AsRef<Metrics>>(scenario: &Scenario, outcome: &Outcome<O>) -> Rendered {
    let mut sink = MemorySink::default();
    let summary =
        render_into(scenario, outcome, &mut sink).expect("rendering to memory cannot fail");
    Rendered { summary, files: sink.files }
}

/// Renders the result files of a finished run into `sink`, one file at a time (a
/// [`super::sink::FolderSink`] writes each straight to disk), and returns the summary.
///
/// # Errors
///
/// The sink's first I/O error.
pub fn render_into<O: AsRef<Metrics>>(
    scenario: &Scenario,
    outcome: &Outcome<O>,
    sink: &mut dyn Sink,
) -> std::io::Result<Summary> {
    let names = &scenario.node_names;
    let (best, in_main) = (outcome.main_chain.best, &outcome.main_chain.in_main);
    let store = &outcome.store;
    let stats = &outcome.stats;
    let metrics: &Metrics = outcome.observer.as_ref();

    // Rows of blocks final during the run were written out then (see `Metrics`); the rest
    // follow them.
    let rows = metrics.names();
    metrics.with_spills(|blocks, propagation, reorgs| -> std::io::Result<()> {
        let pending = metrics.spreads.pending();
        write_csv_after(
            sink,
            blocks,
            pending.map(|(_, s)| block_row(store, rows, &s, in_main[s.block.index()])),
        )?;
        let pending = metrics.spreads.pending();
        write_csv_after(sink, propagation, pending.map(|(_, s)| propagation_row(store, rows, &s)))?;
        write_csv_after(sink, reorgs, std::iter::empty::<ReorgRow>())
    })?;

    // Stale rate over the blocks mined before the last `settle_blocks`.
    let mined = metrics.spreads.len() as u64;
    let stale = metrics.stale(in_main, scenario.run.settle_blocks);
    // One pass over the blocks written out per share of nodes.
    let columns: Vec<Spread> = (0..CDF_PERCENTS.len()).map(|k| metrics.propagation(k)).collect();
    if let Some(e) = metrics.spill_error() {
        return Err(e);
    }
    let column = |k: usize| columns[k].clone();

    write_csv(
        sink,
        CDF_PERCENTS.iter().enumerate().map(|(k, &percent)| {
            let c = column(k);
            PropagationCdfRow {
                percent_of_nodes: percent,
                blocks: c.blocks,
                median_ms: Fixed(c.median_ms),
                mean_ms: Fixed(c.mean_ms),
                p90_ms: Fixed(c.p90_ms),
            }
        }),
    )?;

    let main_height = store.get(best).height;
    let mean_block_interval_s = if main_height == 0 {
        0.0
    } else {
        store.get(best).meta.mined_at.as_secs_f64() / f64::from(main_height)
    };

    let by_miner = metrics.blocks_by_miner(in_main, names.len());
    let miners_detail = outcome
        .miners()
        .map(|m| {
            let n = m.index();
            MinerShare {
                node: names[n].clone(),
                hash_share: outcome.hash_shares[n],
                blocks_mined: by_miner.mined[n],
                blocks_in_main_chain: by_miner.in_main[n],
                revenue_share: by_miner.revenue_share(m, main_height),
            }
        })
        .collect::<Vec<MinerShare>>();
    write_csv(
        sink,
        miners_detail.iter().map(|m| MinerRow {
            node: m.node.clone(),
            hash_share: Fixed(m.hash_share),
            blocks_mined: m.blocks_mined,
            blocks_in_main_chain: m.blocks_in_main_chain,
            revenue_share: Fixed(m.revenue_share),
        }),
    )?;

    let run_view = RunView {
        scenario,
        store,
        in_main,
        best,
        tips: outcome.tips(),
        gamma_subset: &outcome.gamma_subset,
        online: outcome.timeline.then(|| outcome.nodes.iter().map(|n| n.online).collect()),
        hash_shares: &outcome.hash_shares,
    };
    let (attack, attack_csv) = summarize(&run_view, metrics).unzip();
    let attack_csv = attack_csv.flatten();

    let reorg_counts = metrics.reorg_counts();

    let transactions = match &outcome.payments {
        Some(t) => Some(super::transactions::render_transactions(
            t, store, best, in_main, metrics, names, sink,
        )?),
        None => None,
    };

    let summary = Summary {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        stopped_by: stats.stopped_by,
        events: stats.events,
        virtual_time_s: stats.end_time.as_secs_f64(),
        nodes: outcome.network.node_count(),
        miners: outcome.miners().count() as u32,
        links: outcome.network.link_count() as u64,
        blocks_mined: mined,
        main_chain_height: main_height,
        settle_blocks: scenario.run.settle_blocks,
        blocks_counted: stale.counted,
        stale_blocks: stale.stale,
        stale_rate: stale.rate(),
        mean_block_interval_s,
        propagation_ms: PropagationSummary {
            to_50_percent: column(P50_P90_P100[0]),
            to_90_percent: column(P50_P90_P100[1]),
            to_100_percent: column(P50_P90_P100[2]),
        },
        node_mean_delay_median_ms: metrics.median_node_mean_delay_ms(),
        pair_delay_median_ms: metrics.pair_delay_ms().map(|d| d.0),
        pair_delay_mean_ms: metrics.pair_delay_ms().map(|d| d.1),
        traffic: TrafficSummary::of(
            &outcome.traffic,
            outcome.network.node_count(),
            mined,
            scenario.chain.block_interval_s,
        ),
        request_timeouts: scenario
            .relay
            .request_timeout
            .map(|_| RequestTimeoutSummary::of(&outcome.nodes, mined)),
        backlog: BacklogSummary::of(
            &outcome.backlog,
            stats.end_time,
            outcome.network.node_count(),
            scenario.chain.block_interval_s,
        ),
        reorgs: ReorgSummary {
            count: reorg_counts.count,
            max_depth: reorg_counts.max_depth,
            nodes_affected: reorg_counts.nodes.iter().filter(|&&n| n).count() as u64,
            refused_below_prune_depth: store.blocks_refused_below_pruned(),
        },
        rejected: RejectReason::ALL
            .iter()
            .zip(&metrics.rejected)
            .enumerate()
            .filter(|(i, (_, c))| *i < RejectReason::ALWAYS_LISTED || **c > 0)
            .map(|(_, (r, c))| (r.as_str().to_string(), *c))
            .collect(),
        miners_detail,
        double_spend: outcome
            .double_spend
            .as_ref()
            .map(|d| super::double_spend::summarize(d, store, in_main, names)),
        transactions,
        attack,
        invalid_data: metrics
            .invalid
            .as_ref()
            .map(|t| super::invalid_data::summarize(t, &outcome.network, names)),
    };
    let mut summary_json = serde_json::to_vec_pretty(&summary).expect("the summary serializes");
    summary_json.push(b'\n');

    if let Some(csv) = attack_csv {
        write_bytes(sink, "attack.csv", &csv)?;
    }
    write_bytes(sink, "summary.json", &summary_json)?;
    Ok(summary)
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// A digest in lowercase hex, as manifests list it.
pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed to
/// disk, then renamed over the final name.
///
/// # Errors
///
/// Returns the I/O error, naming the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |f| f.write_all(bytes))
}

/// Like [`write_atomic`], for a file written piece by piece by `write` (through a buffer),
/// so that it never needs to be whole in memory; returns the SHA-256 of what was written, in
/// lowercase hex (as [`sha256_hex`] of the same bytes).
///
/// # Errors
///
/// Returns the I/O error, naming the path (an error `write` returns included).
pub fn write_atomic_streamed(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<String> {
    /// Hashes everything written through it.
    struct Hashing<W: Write> {
        inner: W,
        hasher: Sha256,
    }
    impl<W: Write> Write for Hashing<W> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let n = self.inner.write(buf)?;
            self.hasher.update(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.inner.flush()
        }
    }
    let mut digest = String::new();
    write_atomic_with(path, |f| {
        let mut out = Hashing { inner: std::io::BufWriter::new(f), hasher: Sha256::new() };
        write(&mut out)?;
        out.flush()?;
        digest = hex(&out.hasher.finalize());
        Ok(())
    })?;
    Ok(digest)
}

/// Writes a temporary file in `path`'s folder with `write`, flushes it to disk and renames
/// it over `path`; on failure the temporary file is removed.
fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        write(&mut f)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// The manifest: what ran, with which seed and version, and the digest of every file.
#[derive(Serialize)]
struct Manifest<'a> {
    forksim_version: &'a str,
    scenario_file: String,
    scenario_name: &'a str,
    seed: u64,
    /// `world::network_digest` of the run's network (network runs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    network_digest: Option<&'a str>,
    scenario: &'a crate::scenario::RawScenario,
    files: &'a BTreeMap<String, String>,
}

/// Writes every rendered file into `dir` (created if needed) and returns their SHA-256
/// digests by file name, for the manifest.
///
/// # Errors
///
/// Returns the first I/O error, naming the path.
pub fn write_data(dir: &Path, rendered: &Rendered) -> std::io::Result<BTreeMap<String, String>> {
    std::fs::create_dir_all(dir)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
    let mut digests = BTreeMap::new();
    for (name, bytes) in &rendered.files {
        write_atomic(&dir.join(name), bytes)?;
        digests.insert(name.to_string(), sha256_hex(bytes));
    }
    Ok(digests)
}

/// Writes `manifest.json` last: the resolved scenario, seed, version and the digest of
/// every other file of the run.
///
/// # Errors
///
/// Returns the I/O error, naming the path.
pub fn write_manifest(
    dir: &Path,
    scenario: &Scenario,
    digests: &BTreeMap<String, String>,
) -> std::io::Result<()> {
    write_manifest_with_network(dir, scenario, None, digests)
}

/// [`write_manifest`] for a run on a network, with its digest
/// (`world::network_digest`).
///
/// # Errors
///
/// Returns the I/O error, naming the path.
pub fn write_manifest_with_network(
    dir: &Path,
    scenario: &Scenario,
    network_digest: Option<&str>,
    digests: &BTreeMap<String, String>,
) -> std::io::Result<()> {
    let manifest = Manifest {
        forksim_version: env!("CARGO_PKG_VERSION"),
        scenario_file: scenario.source.display().to_string(),
        scenario_name: &scenario.name,
        seed: scenario.seed,
        network_digest,
        scenario: &scenario.resolved,
        files: digests,
    };
    let mut bytes = serde_json::to_vec_pretty(&manifest).expect("the manifest serializes");
    bytes.push(b'\n');
    write_atomic(&dir.join("manifest.json"), &bytes)
}

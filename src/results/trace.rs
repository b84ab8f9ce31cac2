//! `forksim run --trace`: every record of a run, one CSV line each, in `trace.csv`.
//!
//! A trace is for finding out exactly why something happened: which message reached whom
//! when, which messages a cut link swallowed, when an attacker withheld or published. Runs
//! can produce millions of records, so the trace streams to a temporary file in the results
//! folder while the run goes, hashing as it writes, and is renamed into place at the end
//! (an interrupted run leaves no `trace.csv`); its digest goes into the manifest like every
//! other file. Without `--trace` no tracer exists and nothing is formatted.
//!
//! Columns: `time_us` (when it happened; for a sent message, when the sender's uplink
//! started sending it, so lines are in event order, not strictly in time order), `event`,
//! `node`, `peer` (the other node of a message or of an accepted block), `block` (the first
//! eight hex digits of the hash), `height`, `detail` (`key=value` pairs).

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use crate::chain::{BlockId, BlockStore};
use crate::id::NodeId;
use crate::observe::{KeepReason, Observer, Record, TipOutcome};
use crate::results::rows::{self, TraceRow};
use crate::results::sink::Hashing;
use crate::time::SimTime;

/// The trace's file name in a results folder.
pub const TRACE_CSV: &str = "trace.csv";

/// Streams `trace.csv`.
pub struct Tracer {
    names: Vec<String>,
    /// `None` once finished.
    out: Option<csv::Writer<Hashing<BufWriter<File>>>>,
    tmp: PathBuf,
    path: PathBuf,
    error: Option<std::io::Error>,
}

impl Tracer {
    /// Starts a trace in `dir` (created if needed); `names` are the node names.
    ///
    /// # Errors
    ///
    /// The I/O error, naming the path.
    pub fn create(dir: &Path, names: Vec<String>) -> std::io::Result<Tracer> {
        let named = |e: std::io::Error, p: &Path| {
            std::io::Error::new(e.kind(), format!("{}: {e}", p.display()))
        };
        std::fs::create_dir_all(dir).map_err(|e| named(e, dir))?;
        let path = dir.join(TRACE_CSV);
        let tmp = dir.join(format!(".{TRACE_CSV}.tmp.{}", std::process::id()));
        let file = File::create(&tmp).map_err(|e| named(e, &tmp))?;
        let hashing = Hashing::new(BufWriter::with_capacity(1 << 20, file));
        // Built before the header is written, so that a failure removes the temporary file.
        let mut tracer = Tracer { names, out: None, tmp, path, error: None };
        let out = rows::writer::<TraceRow, _>(hashing).map_err(|e| named(e.into(), &tracer.tmp))?;
        tracer.out = Some(out);
        Ok(tracer)
    }

    fn row(&mut self, row: &TraceRow) {
        if self.error.is_none()
            && let Some(out) = self.out.as_mut()
            && let Err(e) = out.serialize(row)
        {
            self.error = Some(e.into());
        }
    }

    fn name(&self, node: NodeId) -> String {
        self.names[node.index()].clone()
    }

    fn line(
        &mut self,
        time: SimTime,
        event: &str,
        node: Option<NodeId>,
        peer: Option<NodeId>,
        block: Option<(&BlockStore, BlockId)>,
        detail: String,
    ) {
        let block = block.map(|(store, b)| store.get(b));
        let row = TraceRow {
            time_us: time.as_micros(),
            event: event.to_string(),
            node: node.map(|n| self.name(n)),
            peer: peer.map(|n| self.name(n)),
            block: block.map(|b| b.hash.short()),
            height: block.map(|b| b.height),
            detail,
        };
        self.row(&row);
    }

    /// Finishes the trace: flushes it to disk, renames it into place and returns its file
    /// name and SHA-256, for the manifest.
    ///
    /// # Errors
    ///
    /// The first I/O error of the trace, naming the path.
    pub fn finish(mut self) -> std::io::Result<(String, String)> {
        let out = self.out.take().expect("a trace is finished once");
        let result = (|| {
            if let Some(e) = self.error.take() {
                return Err(e);
            }
            let hashing = out.into_inner().map_err(|e| e.into_error())?;
            let (buffered, digest) = hashing.finish();
            let file = buffered.into_inner().map_err(|e| e.into_error())?;
            file.sync_all()?;
            std::fs::rename(&self.tmp, &self.path)?;
            Ok(digest)
        })();
        result
            .map(|digest| (TRACE_CSV.to_string(), digest))
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", self.path.display())))
    }
}

/// A trace that is not finished (the run failed) leaves no temporary file behind.
impl Drop for Tracer {
    fn drop(&mut self) {
        // After a successful finish the file was renamed and this finds nothing.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

impl Observer for Tracer {
    fn record(&mut self, record: &Record, store: &BlockStore) {
        match *record {
            Record::BlockMined { block, miner, time } => {
                let parent = store.get(block).parent.map(|p| store.get(p).hash.short());
                let detail = parent.map(|p| format!("parent={p}")).unwrap_or_default();
                self.line(time, "mined", Some(miner), None, Some((store, block)), detail);
            }
            Record::BlockAccepted { node, block, from, outcome, time } => {
                let detail = match outcome {
                    TipOutcome::Extended { .. } => "tip=extended".to_string(),
                    TipOutcome::Reorged { old_tip, depth } => {
                        format!(
                            "tip=reorg depth={depth} old_tip={}",
                            store.get(old_tip).hash.short()
                        )
                    }
                    TipOutcome::Kept { reason: KeepReason::SeenFirst, .. } => {
                        "tip=kept reason=seen_first".to_string()
                    }
                    TipOutcome::Kept { reason: KeepReason::MoreWork, .. } => {
                        "tip=kept reason=more_work".to_string()
                    }
                };
                self.line(time, "accepted", Some(node), from, Some((store, block)), detail);
            }
            Record::MessageSent { from, to, kind, block, sent, arrives } => {
                let detail =
                    format!("kind={} arrives_us={}", kind.wire_name(), arrives.as_micros());
                self.line(sent, "sent", Some(from), Some(to), Some((store, block)), detail);
            }
            Record::BlockRejected { node, block, reason, time } => {
                let detail = format!("reason={}", reason.as_str());
                self.line(time, "rejected", Some(node), None, Some((store, block)), detail);
            }
            Record::Withheld { node, block, time } => {
                self.line(time, "withheld", Some(node), None, Some((store, block)), String::new());
            }
            Record::Published { node, tip, count, tie_with, time } => {
                let tie = tie_with
                    .map(|t| format!(" tie_with={}", store.get(t).hash.short()))
                    .unwrap_or_default();
                let detail = format!("count={count}{tie}");
                self.line(time, "published", Some(node), None, Some((store, tip)), detail);
            }
            Record::GaveUp { node, abandoned, tip, time } => {
                let detail = format!("abandoned={abandoned}");
                self.line(time, "gave_up", Some(node), None, Some((store, tip)), detail);
            }
            Record::MessageDropped { from, to, kind, block, time } => {
                let detail = format!("kind={}", kind.wire_name());
                self.line(time, "dropped", Some(from), Some(to), Some((store, block)), detail);
            }
            Record::Partitioned { groups, links_cut, time } => {
                let detail = format!("groups={groups} links_cut={links_cut}");
                self.line(time, "partitioned", None, None, None, detail);
            }
            Record::Healed { links_restored, time } => {
                let detail = format!("links_restored={links_restored}");
                self.line(time, "healed", None, None, None, detail);
            }
            Record::NodeLeft { node, time } => {
                self.line(time, "left", Some(node), None, None, String::new());
            }
            Record::SlotMissed { producer, slot, time } => {
                self.line(time, "slot-missed", Some(producer), None, None, format!("slot={slot}"));
            }
            Record::PaymentsLeftOut { producer, block, payments, time } => {
                let detail = format!("payments={payments}");
                self.line(time, "left-out", Some(producer), None, Some((store, block)), detail);
            }
            Record::NodeRejoined { node, time } => {
                self.line(time, "rejoined", Some(node), None, None, String::new());
            }
            Record::InvalidSent { node, to, block, kind, time } => {
                let detail = format!("kind={}", kind.name());
                self.line(time, "invalid-sent", Some(node), Some(to), Some((store, block)), detail);
            }
            Record::PeerBanned { node, peer, score, time } => {
                let detail = format!("score={score}");
                self.line(time, "banned", Some(node), Some(peer), None, detail);
            }
            Record::BannedPeerIgnored { node, peer, block, time } => {
                self.line(
                    time,
                    "ignored",
                    Some(node),
                    Some(peer),
                    Some((store, block)),
                    String::new(),
                );
            }
            Record::OrphanEvicted { node, block, time } => {
                let block = Some((store, block));
                self.line(time, "orphan-evicted", Some(node), None, block, String::new());
            }
            Record::PaymentSent { txid, node, conflict, time } => {
                let detail = format!("txid={txid} conflict={conflict}");
                self.line(time, "payment", Some(node), None, None, detail);
            }
            Record::GoodsShipped { node, confirmations, time } => {
                let detail = format!("confirmations={confirmations}");
                self.line(time, "shipped", Some(node), None, None, detail);
            }
            Record::PaymentReversed { node, time } => {
                self.line(time, "reversed", Some(node), None, None, String::new());
            }
            Record::MempoolSampled { node, txs, bytes, time } => {
                let detail = format!("txs={txs} bytes={bytes}");
                self.line(time, "mempool", Some(node), None, None, detail);
            }
        }
    }
}

//! `forksim bench`: whole-run benchmarks anyone can re-run, reporting medians.
//!
//! Each case is a shipped scenario with overrides, run several times in this process from
//! scenario loading to rendered result files (not written to disk). Wall time is reported
//! as the median over runs, since this machine is shared and noisy; peak memory is the
//! process's resident high-water mark, reset before each case on Linux
//! (`/proc/self/clear_refs`), so each case's figure is its own. Each line also gives the
//! median wall time per event, the figure that shows whether a run's cost grows faster than
//! its work as the network grows.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::results::files::render;
use crate::run::RunError;
use crate::scenario::{self, Override};

/// One benchmark case.
#[derive(Clone, Debug)]
pub struct Case {
    /// Label in the report.
    pub label: String,
    /// Scenario file.
    pub scenario: PathBuf,
    /// `--set` overrides.
    pub overrides: Vec<String>,
    /// Most runs for this case (long cases run fewer times than asked).
    pub max_runs: Option<usize>,
}

/// The standard cases: bitcoin-2019 at 1000 nodes x 1000 blocks, at 10,000 nodes x 100 blocks
/// and at 100,000 nodes x 100 blocks (the same work per node, so the time per event shows
/// what scale alone costs; one run, as it takes about a minute), and with real payments:
/// 1000 nodes x 1000 blocks carrying about 500 signed transactions each (500,000 payments,
/// every signature verified once).
pub fn default_cases(root: &Path) -> Vec<Case> {
    let scenario = root.join("scenarios/bitcoin-2019.toml");
    vec![
        Case {
            label: "bitcoin-2019, 1000 nodes x 1000 blocks".into(),
            scenario: scenario.clone(),
            overrides: vec!["network.nodes=1000".into(), "run.blocks=1000".into()],
            max_runs: None,
        },
        Case {
            label: "bitcoin-2019, 10000 nodes x 100 blocks".into(),
            scenario: scenario.clone(),
            overrides: vec!["network.nodes=10000".into(), "run.blocks=100".into()],
            max_runs: None,
        },
        Case {
            label: "bitcoin-2019, 100000 nodes x 100 blocks".into(),
            scenario: scenario.clone(),
            overrides: vec!["network.nodes=100000".into(), "run.blocks=100".into()],
            max_runs: Some(1),
        },
        Case {
            label: "bitcoin-2019 + 500 tx/block, 1000 x 1000".into(),
            scenario,
            overrides: vec![
                "network.nodes=1000".into(),
                "run.blocks=1000".into(),
                // Real transactions replace the filler payload.
                "mining.block_size_bytes=0".into(),
                // 500 payments per 600-second block.
                "workload.payments_per_s=0.8333333".into(),
            ],
            max_runs: Some(3),
        },
    ]
}

/// Measured figures of one case.
#[derive(Clone, Debug)]
pub struct Measurement {
    /// Wall time of each run, in seconds.
    pub wall_s: Vec<f64>,
    /// Peak resident memory in bytes, if the platform reports it.
    pub peak_bytes: Option<u64>,
    /// Events per run.
    pub events: u64,
    /// Proof checks per run: one per block a node accepts from a peer (the header's proof of
    /// work, or a stake kind's seal: see [`proof_checked`]).
    pub proof_checks: u64,
    /// What each of those checks verifies, for the report line.
    pub proof: &'static str,
    /// Payments created per run (0 without a workload).
    pub payments: u64,
    /// Signatures verified per run.
    pub signatures: u64,
}

impl Measurement {
    /// Median wall time.
    pub fn median_s(&self) -> f64 {
        let mut v = self.wall_s.clone();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
    }

    /// Median wall time per event, in microseconds (`None` for a run without events).
    pub fn median_us_per_event(&self) -> Option<f64> {
        (self.events > 0).then(|| self.median_s() * 1e6 / self.events as f64)
    }
}

/// Runs one case `runs` times.
///
/// # Errors
///
/// Returns the scenario's error if the case does not load or build.
pub fn run_case(case: &Case, runs: usize) -> Result<Measurement, RunError> {
    let overrides: Vec<Override> =
        case.overrides.iter().map(|s| Override::parse(s)).collect::<Result<_, _>>()?;
    reset_peak_memory();
    let mut wall_s = Vec::with_capacity(runs);
    let (mut events, mut proof_checks, mut payments, mut signatures) = (0, 0, 0, 0);
    let mut proof = proof_checked(crate::consensus::ConsensusKind::Pow);
    for _ in 0..case.max_runs.map_or(runs, |m| m.min(runs)) {
        let start = Instant::now();
        let scenario = scenario::load(&case.scenario, &overrides, None)?;
        proof = proof_checked(scenario.consensus.kind);
        let outcome = crate::run::run(&scenario)?;
        let rendered = render(&scenario, &outcome);
        wall_s.push(start.elapsed().as_secs_f64());
        events = outcome.stats.events;
        let metrics = &outcome.observer;
        proof_checks = metrics.holders_total() - metrics.spreads.len() as u64;
        payments = outcome.payments.as_ref().map_or(0, |t| t.wallets.created);
        signatures = outcome.store.sigcache().verifications();
        std::hint::black_box(rendered);
    }
    Ok(Measurement {
        wall_s,
        peak_bytes: peak_memory_bytes(),
        events,
        proof_checks,
        proof,
        payments,
        signatures,
    })
}

/// What a node checks of each block it receives under `kind`, as the report names it.
pub fn proof_checked(kind: crate::consensus::ConsensusKind) -> &'static str {
    use crate::consensus::ConsensusKind;
    match kind {
        ConsensusKind::Pow => "header PoW checks",
        ConsensusKind::PosSlot => "VRF proof and signature checks",
        ConsensusKind::PosCoinage => "stake kernel and signature checks",
        ConsensusKind::Dpos => "schedule and signature checks",
        ConsensusKind::Poet => "wait certificate and z-test checks",
    }
}

/// Resets the kernel's resident-memory high-water mark of this process (Linux only).
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The resident-memory high-water mark of this process (Linux only).
fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Formats the report line of a case.
pub fn report_line(case: &Case, m: &Measurement) -> String {
    let runs: Vec<String> = m.wall_s.iter().map(|s| format!("{s:.2}")).collect();
    let peak = m
        .peak_bytes
        .map_or_else(|| "n/a".to_string(), |b| format!("{:.1} MiB", b as f64 / 1_048_576.0));
    let payments = if m.payments > 0 {
        format!(", {} payments, {} signatures verified", m.payments, m.signatures)
    } else {
        String::new()
    };
    let per_event =
        m.median_us_per_event().map_or_else(|| "n/a".to_string(), |us| format!("{us:.3}"));
    format!(
        "{:<42} median {:>6.2} s  peak {:>9}  {} events ({} us/event), {} {}{}  (runs: {})",
        case.label,
        m.median_s(),
        peak,
        m.events,
        per_event,
        m.proof_checks,
        m.proof,
        payments,
        runs.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measurement(wall_s: Vec<f64>, events: u64) -> Measurement {
        Measurement {
            wall_s,
            peak_bytes: Some(64 << 20),
            events,
            proof_checks: 0,
            proof: "header PoW checks",
            payments: 0,
            signatures: 0,
        }
    }

    #[test]
    fn the_time_per_event_is_the_median_run_over_its_events() {
        let m = measurement(vec![3.0, 1.0, 2.0], 4_000_000);
        assert_eq!(m.median_s(), 2.0);
        assert_eq!(m.median_us_per_event(), Some(0.5));
        let case = Case {
            label: "case".into(),
            scenario: PathBuf::from("x.toml"),
            overrides: vec![],
            max_runs: None,
        };
        let line = report_line(&case, &m);
        assert!(line.contains("4000000 events (0.500 us/event)"), "{line}");
        assert!(line.contains("peak  64.0 MiB"), "{line}");
        assert_eq!(measurement(vec![1.0, 2.0], 0).median_us_per_event(), None);
        assert!(report_line(&case, &measurement(vec![1.0], 0)).contains("0 events (n/a us/event)"));
    }

    #[test]
    fn the_default_cases_include_100000_nodes() {
        let cases = default_cases(Path::new("."));
        let big = cases.iter().find(|c| c.overrides.contains(&"network.nodes=100000".to_string()));
        let big = big.expect("a 100,000-node case");
        assert!(big.overrides.contains(&"run.blocks=100".to_string()));
        assert_eq!(big.max_runs, Some(1));
    }
}

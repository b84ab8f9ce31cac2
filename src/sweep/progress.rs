//! Progress of a running sweep, on stderr only (never in the result files).
//!
//! On a terminal: an indicatif bar with the elapsed time and an estimate of the time left,
//! replaced by one summary line at the end. Otherwise (a log file, a cluster job): a plain
//! line at most every 10 seconds and one at the end, so logs stay short:
//! `sweep X: 37/100 runs, 00:41 elapsed, ~01:10 left`.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Shortest time between two plain progress lines.
const PLAIN_INTERVAL: Duration = Duration::from_secs(10);

/// A progress reporter shared by the worker threads.
pub struct Progress {
    kind: Kind,
}

enum Kind {
    Silent,
    Bar(ProgressBar),
    Plain(Mutex<Plain>),
}

struct Plain {
    command: &'static str,
    name: String,
    total: u64,
    done: u64,
    done_now: u64,
    start: Instant,
    last_line: Instant,
}

impl Plain {
    fn line(&self) -> String {
        let elapsed = self.start.elapsed();
        let left = if self.done >= self.total {
            String::new()
        } else if self.done_now == 0 {
            ", time left unknown".to_string()
        } else {
            let per_run = elapsed.as_secs_f64() / self.done_now as f64;
            let left = Duration::from_secs_f64(per_run * (self.total - self.done) as f64);
            format!(", ~{} left", clock(left))
        };
        format!(
            "{} {}: {}/{} runs, {} elapsed{left}",
            self.command,
            self.name,
            self.done,
            self.total,
            clock(elapsed)
        )
    }
}

/// `mm:ss`, or `h:mm:ss` from an hour on.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

impl Progress {
    /// A reporter for `total` runs of which `already` were done before (resumed); silent
    /// unless `enabled`.
    pub fn new(enabled: bool, name: &str, total: u64, already: u64) -> Progress {
        Progress::for_command("sweep", enabled, name, total, already)
    }

    /// Like [`Progress::new`], for the runs of another command (`compare`), whose name
    /// starts each line.
    pub fn for_command(
        command: &'static str,
        enabled: bool,
        name: &str,
        total: u64,
        already: u64,
    ) -> Progress {
        let kind = if !enabled {
            Kind::Silent
        } else if std::io::stderr().is_terminal() {
            let style = ProgressStyle::with_template(
                "{prefix}: {pos}/{len} runs [{wide_bar}] {elapsed_precise} elapsed, ~{eta_precise} left",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
                .with_style(style)
                .with_prefix(format!("{command} {name}"))
                .with_position(already);
            bar.reset_eta();
            Kind::Bar(bar)
        } else {
            let now = Instant::now();
            Kind::Plain(Mutex::new(Plain {
                command,
                name: name.to_string(),
                total,
                done: already,
                done_now: 0,
                start: now,
                last_line: now,
            }))
        };
        Progress { kind }
    }

    /// Counts one finished run.
    pub fn tick(&self) {
        match &self.kind {
            Kind::Silent => {}
            Kind::Bar(bar) => bar.inc(1),
            Kind::Plain(plain) => {
                let Ok(mut p) = plain.lock() else { return };
                p.done += 1;
                p.done_now += 1;
                if p.last_line.elapsed() >= PLAIN_INTERVAL && p.done < p.total {
                    p.last_line = Instant::now();
                    eprintln!("{}", p.line());
                }
            }
        }
    }

    /// Ends the report: the bar is finished, or a last plain line is printed.
    pub fn finish(&self) {
        match &self.kind {
            Kind::Silent => {}
            Kind::Bar(bar) => {
                // Replaces the bar by the same final line as on a plain stderr.
                bar.finish_and_clear();
                let prefix = bar.prefix();
                let (done, total) = (bar.position(), bar.length().unwrap_or(0));
                eprintln!("{prefix}: {done}/{total} runs, {} elapsed", clock(bar.elapsed()));
            }
            Kind::Plain(plain) => {
                if let Ok(p) = plain.lock() {
                    eprintln!("{}", p.line());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_estimate_the_time_left() {
        let start = Instant::now() - Duration::from_secs(41);
        let p = Plain {
            command: "sweep",
            name: "x".into(),
            total: 100,
            done: 37,
            done_now: 37,
            start,
            last_line: start,
        };
        let line = p.line();
        assert!(line.starts_with("sweep x: 37/100 runs, 00:41 elapsed, ~01:"), "{line}");
        assert_eq!(clock(Duration::from_secs(3 * 3600 + 62)), "3:01:02");
        let done = Plain { done: 100, ..p };
        assert_eq!(done.line(), "sweep x: 100/100 runs, 00:41 elapsed");
    }
}

//! What a crash tells the user: the seed, the scenario's digest and the exact command that
//! reproduces the run.
//!
//! A panic in the simulator is a bug, and a deterministic simulator can always replay a bug:
//! all that is needed is what ran. [`install`] adds a panic hook that prints, after Rust's
//! own message, the run's seed, the SHA-256 of its resolved scenario (as in the manifest)
//! and a command line that runs it again. Each run in progress says what it is with
//! [`enter`]; the context is per thread, so the points of a sweep that run in parallel each
//! report their own.
//!
//! The environment variable `FORKSIM_TEST_PANIC=1` makes [`enter`] panic on purpose; the
//! tests use it to check the report end to end.

use std::cell::RefCell;

use crate::results::files::sha256_hex;
use crate::scenario::Scenario;

/// What a crash report names: which run was in progress.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunContext {
    /// The scenario's name.
    pub scenario: String,
    /// The master seed.
    pub seed: u64,
    /// SHA-256 of the resolved scenario, as JSON (what the manifest's `scenario` holds).
    pub digest: String,
    /// A command line that runs the same scenario with the same seed.
    pub command: String,
}

thread_local! {
    static CONTEXT: RefCell<Option<RunContext>> = const { RefCell::new(None) };
}

/// Installs the panic hook (once, from `main`).
pub fn install() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        let context = CONTEXT.with(|c| c.borrow().clone());
        eprintln!("{}", report(context.as_ref()));
    }));
}

/// Marks `scenario` as the run in progress on this thread until the guard is dropped;
/// `command` reproduces it.
pub fn enter(scenario: &Scenario, command: String) -> Guard {
    let resolved = serde_json::to_vec(&scenario.resolved).expect("a scenario serializes");
    let context = RunContext {
        scenario: scenario.name.clone(),
        seed: scenario.seed,
        digest: sha256_hex(&resolved),
        command,
    };
    let previous = CONTEXT.with(|c| c.replace(Some(context)));
    let guard = Guard { previous };
    if std::env::var_os("FORKSIM_TEST_PANIC").is_some_and(|v| v == "1") {
        panic!("FORKSIM_TEST_PANIC=1: a deliberate crash to test the crash report");
    }
    guard
}

/// Restores the previous context when dropped.
#[must_use = "the context lasts as long as the guard"]
pub struct Guard {
    previous: Option<RunContext>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        CONTEXT.with(|c| *c.borrow_mut() = previous);
    }
}

/// The lines printed after a panic's own message.
pub fn report(context: Option<&RunContext>) -> String {
    let mut text = String::from("\nforksim crashed: this is a bug in the simulator.\n");
    match context {
        Some(c) => {
            text.push_str(&format!(
                "  scenario: {} (resolved scenario sha256 {})\n",
                c.scenario, c.digest
            ));
            text.push_str(&format!("  seed:     {}\n", c.seed));
            text.push_str(&format!("  reproduce with: {}\n", c.command));
        }
        None => {
            text.push_str(&format!("  command: {}\n", this_command()));
        }
    }
    text.push_str("Please report it with these lines; the same command crashes the same way.");
    text
}

/// The command line of this process, quoted for a POSIX shell, with `seed` appended as
/// `--seed` unless the line already sets one.
pub fn command_with_seed(seed: u64) -> String {
    let mut line = this_command();
    if !std::env::args().any(|a| a == "--seed" || a.starts_with("--seed=")) {
        line.push_str(&format!(" --seed {seed}"));
    }
    line
}

/// `forksim run BASE --set FIELD=VALUE ... --seed SEED`: the single run of a sweep point.
pub fn run_command(base: &std::path::Path, overrides: &[String], seed: u64) -> String {
    let mut words =
        vec!["forksim".to_string(), "run".to_string(), quote(&base.display().to_string())];
    for o in overrides {
        words.push("--set".to_string());
        words.push(quote(o));
    }
    words.push(format!("--seed {seed}"));
    words.join(" ")
}

/// This process's command line, with the program named `forksim`.
pub fn this_command() -> String {
    let mut words = vec!["forksim".to_string()];
    words.extend(std::env::args().skip(1).map(|a| quote(&a)));
    words.join(" ")
}

/// `word` quoted for a POSIX shell where needed.
fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain { word.to_string() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_names_the_seed_the_digest_and_the_command() {
        let c = RunContext {
            scenario: "quickstart".into(),
            seed: 7,
            digest: "ab".repeat(32),
            command: run_command(
                std::path::Path::new("scenarios/quickstart.toml"),
                &["attacker[0].strategy=selfish".into(), "run.blocks=5".into()],
                7,
            ),
        };
        let text = report(Some(&c));
        assert!(text.contains("seed:     7"), "{text}");
        assert!(text.contains(&"ab".repeat(32)), "{text}");
        assert!(
            text.contains(
                "reproduce with: forksim run scenarios/quickstart.toml --set 'attacker[0].strategy=selfish' --set run.blocks=5 --seed 7"
            ),
            "{text}"
        );
    }

    #[test]
    fn quoting_keeps_plain_words_and_escapes_the_rest() {
        assert_eq!(quote("run.blocks=5"), "run.blocks=5");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }
}

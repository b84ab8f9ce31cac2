//! Race scenarios (attacks without a network) through the command line.

use crate::support::{forksim, forksim_ok, read, scenario, stderr, stdout};

fn run_race(file: &str, sets: &[&str]) -> serde_json::Value {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    let path = scenario(file);
    let mut args = vec!["run", path.to_str().unwrap(), "--out", out.to_str().unwrap()];
    for s in sets {
        args.extend_from_slice(&["--set", s]);
    }
    let o = forksim_ok(&args);
    assert!(stdout(&o).contains("exact") || stdout(&o).contains("Eyal-Sirer"), "{}", stdout(&o));
    serde_json::from_slice(&read(&out, "summary.json")).unwrap()
}

/// The double-spend estimate lies within 3 standard errors of the exact probability, with
/// the exact value inside the reported 95 % interval's neighbourhood.
#[test]
fn double_spend_race_matches_the_exact_probability() {
    let s = run_race(
        "attacks/double-spend-race.toml",
        &["race.q=0.3", "race.z=2", "race.trials=200000"],
    );
    let (rate, exact) = (s["success_rate"].as_f64().unwrap(), s["exact"].as_f64().unwrap());
    let se = (exact * (1.0 - exact) / 200_000.0).sqrt();
    assert!(
        (rate - exact).abs() <= 3.0 * se,
        "simulated {rate} vs exact {exact} (3 SE = {})",
        3.0 * se
    );
    assert!(s["ci95_low"].as_f64().unwrap() < rate && rate < s["ci95_high"].as_f64().unwrap());
    assert!(s["nakamoto"].as_f64().unwrap() > 0.0);
}

/// Selfish-mining relative revenue within 0.01 of Eyal and Sirer's closed form.
#[test]
fn selfish_mining_race_matches_eyal_and_sirer() {
    let s =
        run_race("attacks/selfish-mining-race.toml", &["race.gamma=0.5", "race.blocks=1000000"]);
    let (sim, closed) =
        (s["relative_revenue"].as_f64().unwrap(), s["eyal_sirer_revenue"].as_f64().unwrap());
    assert!((sim - closed).abs() <= 0.01, "simulated {sim} vs closed form {closed}");
}

#[test]
fn endless_races_and_misplaced_fields_are_rejected() {
    let path = scenario("attacks/double-spend-race.toml");
    let o = forksim(&["validate", path.to_str().unwrap(), "--set", "race.q=0.6"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("race.q") && stderr(&o).contains("give_up_behind"),
        "{}",
        stderr(&o)
    );
    let o = forksim(&["validate", path.to_str().unwrap(), "--set", "race.alpha=0.2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("race.alpha") && stderr(&o).contains("does not apply"),
        "{}",
        stderr(&o)
    );
}

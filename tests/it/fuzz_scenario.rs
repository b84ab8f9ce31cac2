//! Fuzzing the scenario loader and validator: structured mutations of every shipped scenario
//! (drop, alter or insert fields, wrong types, extreme numbers, truncated text) and random
//! `--set` arguments. Every input either loads or is refused with an error that names its
//! file; none panics. A scenario that loads must load again from the resolved form its
//! manifest records (what `forksim replay` reads), with the same result.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use forksim::scenario::{self, Override, RawScenario, Scenario};
use proptest::prelude::*;
use proptest::sample::Index;

use crate::fuzz_common::{self as common, Mutation, WORDS};
use crate::support::root;

/// Inputs per run of each target (see the README's fuzzing section for the totals).
const TOML_CASES: u32 = 30_000;
const SET_CASES: u32 = 30_000;

/// Every shipped scenario (sweep files aside), with its text: the seeds of the mutations.
fn shipped() -> &'static [(PathBuf, String)] {
    static SHIPPED: OnceLock<Vec<(PathBuf, String)>> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let mut found = Vec::new();
        let mut dirs = vec![root().join("scenarios")];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                if path.is_dir() && name != "sweeps" {
                    dirs.push(path);
                } else if name.ends_with(".toml") {
                    found.push(path);
                }
            }
        }
        found.sort();
        assert!(found.len() >= 10, "shipped scenarios: {found:?}");
        found
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap();
                (p, text)
            })
            .collect()
    })
}

/// Loads `text` as the file `fuzz.toml` with `overrides`, and checks the outcome: an error
/// names the file; a valid scenario loads again from its recorded resolved form.
fn check_load(text: &str, overrides: &[Override]) -> Result<(), TestCaseError> {
    let file = Path::new("fuzz.toml");
    match scenario::from_str(text, file, overrides, None) {
        Err(e) => {
            let message = e.to_string();
            prop_assert!(message.starts_with("fuzz.toml"), "error without its file: {message}");
            prop_assert!(!message.contains('\n'), "a message is one line: {message}");
        }
        Ok(s) => check_reload(&s)?,
    }
    Ok(())
}

/// The resolved scenario, through JSON as `manifest.json` holds it, validates again to the
/// same resolved scenario.
fn check_reload(s: &Scenario) -> Result<(), TestCaseError> {
    let json = serde_json::to_value(&s.resolved).expect("a resolved scenario serializes");
    let raw: RawScenario = serde_json::from_value(json)
        .map_err(|e| TestCaseError::fail(format!("resolved form does not read back: {e}")))?;
    let again = scenario::from_raw(raw, &s.source)
        .map_err(|e| TestCaseError::fail(format!("resolved form does not validate: {e}")))?;
    prop_assert_eq!(&again.resolved, &s.resolved);
    Ok(())
}

/// A mutated shipped scenario: which one, its changes, and perhaps a cut.
fn mutated() -> impl Strategy<Value = (Index, Vec<Mutation>, Option<Index>)> {
    (
        any::<Index>(),
        prop::collection::vec(common::mutation(), 1..5),
        prop::option::weighted(0.1, any::<Index>()),
    )
}

proptest! {
    #![proptest_config(common::config(TOML_CASES, 0x5ce7_a210))]

    #[test]
    fn fuzz_mutated_scenarios_load_or_are_refused_by_name((which, changes, cut) in mutated()) {
        let (_, text) = &shipped()[which.index(shipped().len())];
        let mut table: toml::Table = toml::from_str(text).unwrap();
        for m in &changes {
            common::apply(&mut table, m);
        }
        let text = common::to_text(&table);
        let text = match cut {
            Some(at) => common::truncate(&text, at).to_string(),
            None => text,
        };
        check_load(&text, &[])?;
    }
}

/// Every leaf field path of the shipped scenarios, as `--set` writes them
/// (`attacker[0].share`), plus the tables themselves.
fn field_paths() -> &'static [String] {
    static PATHS: OnceLock<Vec<String>> = OnceLock::new();
    PATHS.get_or_init(|| {
        fn walk(v: &toml::Value, at: String, out: &mut Vec<String>) {
            match v {
                toml::Value::Table(t) => {
                    out.push(at.clone());
                    for (k, v) in t {
                        walk(v, if at.is_empty() { k.clone() } else { format!("{at}.{k}") }, out);
                    }
                }
                toml::Value::Array(items) if items.iter().all(toml::Value::is_table) => {
                    for (i, v) in items.iter().enumerate() {
                        walk(v, format!("{at}[{i}]"), out);
                    }
                }
                _ => out.push(at),
            }
        }
        let mut out = Vec::new();
        for (_, text) in shipped() {
            let t: toml::Table = toml::from_str(text).unwrap();
            walk(&toml::Value::Table(t), String::new(), &mut out);
        }
        out.retain(|p| !p.is_empty());
        out.sort();
        out.dedup();
        out
    })
}

/// The text after `=` of a `--set`: numbers, names, arrays, tables, broken TOML, nothing.
fn set_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => common::scalar().prop_map(|v| v.to_string()),
        3 => prop::sample::select(WORDS).prop_map(str::to_string),
        2 => common::value().prop_map(|v| v.to_string()),
        1 => "[0-9eE+\\-.]{0,24}",
        1 => prop::sample::select(vec![
            "", "=", "[", "]", "{", "}", "\"", "[1,", "{a=", "nan", "-inf", "1e999",
            "99999999999999999999999", "0x10", "1_000", "true", "[[0, 1]]", "{ share = 0.5 }",
        ])
        .prop_map(str::to_string),
        1 => ".{0,10}",
    ]
}

/// A field path: a real one, one with a changed index or a misspelt key, or junk.
fn set_path() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => any::<Index>().prop_map(|i| field_paths()[i.index(field_paths().len())].clone()),
        1 => (any::<Index>(), 0usize..4)
            .prop_map(|(i, n)| format!("attacker[{n}].{}", field_paths()[i.index(field_paths().len())])),
        1 => (any::<Index>(), "[a-z_]{1,6}")
            .prop_map(|(i, tail)| format!("{}{tail}", field_paths()[i.index(field_paths().len())])),
        1 => "[a-z_.\\[\\]0-9]{0,20}",
    ]
}

proptest! {
    #![proptest_config(common::config(SET_CASES, 0x5e7_0001))]

    #[test]
    fn fuzz_set_arguments_load_or_are_refused_by_name(
        which in any::<Index>(),
        sets in prop::collection::vec((set_path(), set_value()), 1..4),
    ) {
        let (_, text) = &shipped()[which.index(shipped().len())];
        let mut overrides = Vec::new();
        for (path, value) in &sets {
            let argument = format!("{path}={value}");
            match Override::parse(&argument) {
                Ok(o) => overrides.push(o),
                Err(e) => {
                    // A malformed argument is refused by name.
                    let message = e.to_string();
                    prop_assert!(message.starts_with("--set "), "{message}");
                }
            }
        }
        check_load(text, &overrides)?;
    }
}

// Inputs the fuzz targets above found failing, kept as regression tests.

#[test]
fn a_race_result_folder_replays() {
    // A race's manifest holds the defaults filled into [network]; validation took them for
    // network settings given beside [race], so `replay` refused every race folder (exit 2).
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("race");
    let race = root().join("scenarios/attacks/double-spend-race.toml");
    let out_text = out.to_str().unwrap();
    crate::support::forksim_ok(&[
        "run",
        race.to_str().unwrap(),
        "--quiet",
        "--set",
        "race.trials=2000",
        "--out",
        out_text,
    ]);
    let o = crate::support::forksim(&["replay", out_text]);
    assert_eq!(o.status.code(), Some(0), "{}", crate::support::stderr(&o));
    // Network settings written beside [race] are still refused.
    let text = std::fs::read_to_string(&race).unwrap();
    let err = scenario::from_str(&format!("{text}\n[network]\nnodes = 50\n"), &race, &[], None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not apply to a [race]"), "{err}");
}

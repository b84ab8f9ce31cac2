//! `--set FIELD.PATH=VALUE`: changes to a scenario from the command line.
//!
//! An override is applied to the parsed TOML tree *before* it is deserialized, so a value
//! given on the command line passes through exactly the same checks as one in the file, and
//! its errors say `--set network.nodes=abc` instead of the file name.

use super::ScenarioError;
use super::raw::RawScenario;

/// One `--set` argument, parsed.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// The argument as given, for messages.
    pub argument: String,
    /// Dotted path split into keys.
    pub path: Vec<String>,
    /// The value, parsed as TOML (bare words become strings).
    pub value: toml::Value,
}

impl Override {
    /// Parses `a.b.c=VALUE`. The value is read as a TOML value (`1000`, `0.5`, `true`,
    /// `"x"`, `[1, 2]`); anything that is not valid TOML is taken as a string, so
    /// `--set network.relay.protocol=compact` needs no quotes.
    ///
    /// # Errors
    ///
    /// Returns [`ScenarioError::Override`] when there is no `=` or the path is empty.
    pub fn parse(argument: &str) -> Result<Override, ScenarioError> {
        let bad = |source: OverrideError| ScenarioError::Override {
            argument: argument.to_string(),
            source,
        };
        let (path, value) =
            argument.split_once('=').ok_or_else(|| bad(OverrideError::MissingEquals))?;
        // `attacker[0].share` is `attacker.0.share`: an index into an array of tables.
        let path = path.trim().replace('[', ".").replace(']', "");
        let path: Vec<String> = path.split('.').map(|k| k.trim().to_string()).collect();
        if path.iter().any(String::is_empty) {
            return Err(bad(OverrideError::EmptyPathPart));
        }
        let value_text = value.trim();
        let parsed = toml::from_str::<toml::Table>(&format!("v = {value_text}"))
            .ok()
            .and_then(|mut t| t.remove("v"));
        // A number too large for TOML would otherwise pass as a string and be refused as
        // "expected u64".
        let digits = value_text.strip_prefix(['-', '+']).unwrap_or(value_text);
        let out_of_range = digits.len() >= 19
            && !digits.starts_with('0')
            && digits.bytes().all(|b| b.is_ascii_digit());
        if parsed.is_none() && out_of_range {
            return Err(bad(OverrideError::IntegerOutOfRange { value: value_text.to_string() }));
        }
        let value = parsed.unwrap_or_else(|| toml::Value::String(value_text.to_string()));
        Ok(Override { argument: argument.to_string(), path, value })
    }

    /// The field path as messages write it: dotted, with array indices in brackets
    /// (`attacker[0].share`).
    pub fn field(&self) -> String {
        let mut field = String::new();
        for key in &self.path {
            if key.parse::<usize>().is_ok() {
                field.push_str(&format!("[{key}]"));
            } else {
                if !field.is_empty() {
                    field.push('.');
                }
                field.push_str(key);
            }
        }
        field
    }

    /// Writes the value into the tree, creating tables on the way.
    ///
    /// # Errors
    ///
    /// Returns [`ScenarioError::Override`] if the path runs through a value that is not a
    /// table.
    pub fn apply(&self, table: &mut toml::Table) -> Result<(), ScenarioError> {
        let keys: Vec<&str> = self.path.iter().map(String::as_str).collect();
        set_path(table, &keys, self.value.clone())
            .map_err(|source| ScenarioError::Override { argument: self.argument.clone(), source })
    }

    /// Like [`Override::apply`] on the tree of scenario file `file`; a failure is reported
    /// as a field error naming the file, this `--set`, the field and the value.
    ///
    /// # Errors
    ///
    /// Returns [`ScenarioError::Field`] if the path runs through a value that is not a
    /// table, or names a list entry the scenario does not have.
    pub fn apply_to(&self, table: &mut toml::Table, file: &str) -> Result<(), ScenarioError> {
        self.apply(table).map_err(|e| match e {
            ScenarioError::Override { source, .. } => ScenarioError::Field {
                origin: format!("{file} (--set {})", self.argument),
                field: self.field(),
                value: show(&self.value),
                problem: source.to_string(),
            },
            other => other,
        })
    }
}

/// What is wrong with a `--set` argument; [`ScenarioError::Override`] names the argument.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OverrideError {
    /// The argument has no `=`.
    #[error("expected FIELD.PATH=VALUE")]
    MissingEquals,
    /// A whole number beyond the range of a scenario integer (TOML's signed 64 bits).
    #[error(
        "{value} is out of range: scenario integers lie between -9223372036854775808 and 9223372036854775807 (for a larger seed, `--seed` takes any value up to 18446744073709551615)"
    )]
    IntegerOutOfRange {
        /// The number as given.
        value: String,
    },
    /// The field path has an empty part (`network..nodes`, `.nodes`).
    #[error("the field path has an empty part")]
    EmptyPathPart,
    /// The path names a list without an entry number.
    #[error("`{list}` is a list; name an entry by number, e.g. {list}[0]")]
    NotIndexed {
        /// The list's dotted path.
        list: String,
    },
    /// The path names an entry past the end of a list.
    #[error("`{list}` has {len} entries, so there is no entry {index}")]
    NoSuchEntry {
        /// The list's dotted path.
        list: String,
        /// How many entries it has.
        len: usize,
        /// The entry asked for.
        index: usize,
    },
    /// The path indexes a list the scenario does not have (`attacker[0]` without any
    /// `[[attacker]]`).
    #[error(
        "the scenario has no [[{list}]] entries to change; add an [[{list}]] table to the file (--set changes entries, it does not create them)"
    )]
    NoList {
        /// The list's dotted path.
        list: String,
    },
    /// The path runs through a value that is not a table.
    #[error("`{field}` is not a table, so it has no fields to set")]
    NotATable {
        /// The value's dotted path.
        field: String,
    },
}

/// Sets `value` at `keys` in `table`, creating tables as needed and indexing into arrays
/// of tables with numeric keys.
pub(crate) fn set_path(
    table: &mut toml::Table,
    keys: &[&str],
    value: toml::Value,
) -> Result<(), OverrideError> {
    let mut current = table;
    let mut depth = 0;
    loop {
        let key = keys[depth];
        if depth + 1 == keys.len() {
            current.insert(key.to_string(), value);
            return Ok(());
        }
        // `attacker[0].x` where the scenario has no `[[attacker]]`: creating a table named
        // `attacker` would only fail later as "expected a sequence"; say what is missing.
        if !current.contains_key(key) && keys[depth + 1].parse::<usize>().is_ok() {
            return Err(OverrideError::NoList { list: keys[..=depth].join(".") });
        }
        let mut entry = current
            .entry(key.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        while let toml::Value::Array(items) = entry {
            depth += 1;
            let len = items.len();
            let list = || keys[..depth].join(".");
            let index = keys[depth]
                .parse::<usize>()
                .map_err(|_| OverrideError::NotIndexed { list: list() })?;
            entry = items.get_mut(index).ok_or_else(|| OverrideError::NoSuchEntry {
                list: list(),
                len,
                index,
            })?;
            if depth + 1 == keys.len() {
                *entry = value;
                return Ok(());
            }
        }
        current = match entry {
            toml::Value::Table(t) => t,
            _ => return Err(OverrideError::NotATable { field: keys[..=depth].join(".") }),
        };
        depth += 1;
    }
}

/// Deserializes the tree into the raw scenario, turning serde's message into one that names
/// the field path, its value and where it came from.
pub(crate) fn deserialize(
    table: toml::Table,
    file: &str,
    overrides: &[Override],
) -> Result<RawScenario, ScenarioError> {
    let lookup = table.clone();
    let value = toml::Value::Table(table);
    serde_path_to_error::deserialize(value).map_err(|err| {
        let mut field = err.path().to_string();
        let message = err.inner().to_string();
        let mut message = message.lines().next().unwrap_or_default().to_string();
        // For an unknown field the path may end at the parent or already at the field
        // itself; name the field once.
        if let Some(name) = between_backticks(&message, "unknown field `") {
            let named = field.rsplit('.').next() == Some(name.as_str());
            if field == "." || field.is_empty() {
                field = name.clone();
            } else if !named {
                field = format!("{field}.{name}");
            }
            if field == "sweep" {
                message.push_str(" (this is a sweep file: run it with `forksim sweep FILE`)");
            }
        }
        let keys: Vec<&str> = field.split('.').collect();
        let value = value_at(&lookup, &keys).map_or_else(|| "(missing)".to_string(), show);
        let origin = origin_of(&field, file, overrides);
        ScenarioError::Field { origin, field, value, problem: message }
    })
}

/// The text between `prefix` and the next backtick.
fn between_backticks(message: &str, prefix: &str) -> Option<String> {
    let start = message.find(prefix)? + prefix.len();
    let end = message[start..].find('`')? + start;
    Some(message[start..end].to_string())
}

/// The value at a dotted path, if present.
pub(crate) fn value_at<'a>(table: &'a toml::Table, keys: &[&str]) -> Option<&'a toml::Value> {
    let (first, rest) = keys.split_first()?;
    // `attacker[0]`: an entry of an array of tables.
    let v = match first.strip_suffix(']').and_then(|k| k.split_once('[')) {
        Some((name, index)) => table.get(name)?.as_array()?.get(index.parse::<usize>().ok()?)?,
        None => table.get(*first)?,
    };
    if rest.is_empty() {
        return Some(v);
    }
    match v {
        toml::Value::Table(t) => value_at(t, rest),
        _ => None,
    }
}

/// A TOML value as it would be written in a file.
pub(crate) fn show(value: &toml::Value) -> String {
    match value {
        toml::Value::Table(_) => "{ ... }".to_string(),
        other => other.to_string(),
    }
}

/// Where the value at `field` came from: the last `--set` that touched it, or the file.
pub(crate) fn origin_of(field: &str, file: &str, overrides: &[Override]) -> String {
    overrides
        .iter()
        .rev()
        .find(|o| {
            let f = o.field();
            f == field
                || field.starts_with(&format!("{f}."))
                || field.starts_with(&format!("{f}["))
                || f.starts_with(&format!("{field}."))
                || f.starts_with(&format!("{field}["))
        })
        .map_or_else(|| file.to_string(), |o| format!("{file} (--set {})", o.argument))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_as_toml_and_bare_words_as_strings() {
        let o = Override::parse("network.nodes=1000").unwrap();
        assert_eq!(o.path, ["network", "nodes"]);
        assert_eq!(o.value, toml::Value::Integer(1000));
        let o = Override::parse("network.relay.protocol=compact").unwrap();
        assert_eq!(o.value, toml::Value::String("compact".into()));
        let o = Override::parse("chain.block_interval_s=2.5").unwrap();
        assert_eq!(o.value, toml::Value::Float(2.5));
    }

    #[test]
    fn a_number_beyond_64_bit_signed_range_is_an_error_saying_so() {
        for big in ["18446744073709551615", "9223372036854775808", "-9223372036854775809"] {
            let e = Override::parse(&format!("run.seed={big}")).unwrap_err().to_string();
            assert!(e.contains(&format!("{big} is out of range")), "{e}");
            assert!(e.contains("--seed"), "{e}");
        }
        let max = Override::parse("run.seed=9223372036854775807").unwrap();
        assert_eq!(max.value, toml::Value::Integer(i64::MAX));
        // Leading zeros are not TOML numbers: still a bare word, not a range error.
        assert!(Override::parse("run.name=0000000000000000000042").is_ok());
    }

    #[test]
    fn malformed_arguments_are_errors() {
        assert!(Override::parse("network.nodes").is_err());
        assert!(Override::parse("network..nodes=3").is_err());
    }

    #[test]
    fn array_entries_are_set_by_index() {
        let mut t: toml::Table =
            toml::from_str("[[attacker]]\nshare = 0.3\n[[attacker]]\nshare = 0.1\n").unwrap();
        let o = Override::parse("attacker[1].share=0.2").unwrap();
        assert_eq!(o.field(), "attacker[1].share");
        o.apply(&mut t).unwrap();
        assert_eq!(t["attacker"][1]["share"].as_float(), Some(0.2));
        Override::parse("attacker.0.share=0.4").unwrap().apply(&mut t).unwrap();
        assert_eq!(t["attacker"][0]["share"].as_float(), Some(0.4));
        let err = Override::parse("attacker[5].share=0.2").unwrap().apply(&mut t).unwrap_err();
        assert!(err.to_string().contains("has 2 entries"), "{err}");
        assert!(
            matches!(
                &err,
                ScenarioError::Override {
                    source: OverrideError::NoSuchEntry { list, len: 2, index: 5 },
                    ..
                } if list == "attacker"
            ),
            "{err:?}"
        );
        let err = Override::parse("attacker.share=0.2").unwrap().apply(&mut t).unwrap_err();
        assert!(err.to_string().contains("is a list"), "{err}");
    }

    #[test]
    fn setting_through_a_scalar_names_the_scalar() {
        let mut t: toml::Table = toml::from_str("run = 5").unwrap();
        let err = Override::parse("run.seed=3").unwrap().apply(&mut t).unwrap_err();
        assert!(err.to_string().contains("`run` is not a table"), "{err}");
    }
}

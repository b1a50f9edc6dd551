//! `MORELIKE_*` environment variables the server does not know: a
//! misspelled setting (`MORELIKE_MEMORY_BUDJET`) would otherwise be ignored
//! without a word, so each is warned about at start, with the nearest known
//! name when one is close.

/// Variables read outside the settings (`MORELIKE_LOG`, keys, the Redis
/// credentials) and by the test and bench harnesses around the binary.
const ALSO_KNOWN: &[&str] = &[
    "MORELIKE_LOG",
    "MORELIKE_ADMIN_KEY",
    "MORELIKE_REDIS_USERNAME",
    "MORELIKE_REDIS_PASSWORD",
    "MORELIKE_BIN",
    "MORELIKE_SCHEMATHESIS",
];

/// Prefixes of the harnesses' own variables.
const KNOWN_PREFIXES: &[&str] = &["MORELIKE_BENCH_"];

/// An unknown variable, and the known name it is probably a misspelling of.
#[derive(Debug, PartialEq, Eq)]
pub struct Unknown {
    /// The variable as set.
    pub name: String,
    /// The nearest known name, when it is close.
    pub nearest: Option<String>,
}

/// The `MORELIKE_*` names among `set` that are neither in `known` nor
/// `ALSO_KNOWN`, each with its nearest known name (at most a quarter of
/// its letters away).
pub fn unknown<'k>(
    known: impl IntoIterator<Item = &'k str>,
    set: impl IntoIterator<Item = String>,
) -> Vec<Unknown> {
    let known: Vec<&str> = known
        .into_iter()
        .chain(ALSO_KNOWN.iter().copied())
        .collect();
    let mut found: Vec<Unknown> = set
        .into_iter()
        .filter(|name| name.starts_with("MORELIKE_"))
        .filter(|name| !known.contains(&name.as_str()))
        .filter(|name| !KNOWN_PREFIXES.iter().any(|p| name.starts_with(p)))
        .map(|name| {
            let nearest = known
                .iter()
                .map(|k| (distance(&name, k), *k))
                .min()
                .filter(|(d, _)| *d <= name.len().max(4) / 4)
                .map(|(_, k)| k.to_owned());
            Unknown { name, nearest }
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// Logs a warning for each unknown `MORELIKE_*` variable of this process.
pub fn warn<'k>(known: impl IntoIterator<Item = &'k str>) {
    let set = std::env::vars_os().filter_map(|(name, _)| name.into_string().ok());
    for Unknown { name, nearest } in unknown(known, set) {
        match nearest {
            Some(nearest) => tracing::warn!(
                "{name} is not a morelike setting and is ignored: did you mean {nearest}?"
            ),
            None => tracing::warn!(
                "{name} is not a morelike setting and is ignored (see docs/SERVER.md for the settings)"
            ),
        }
    }
}

/// Edits (insert, delete, replace a letter) from one name to the other.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != cb))
                .min(above + 1)
                .min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_misspelled_setting_is_named_with_the_nearest_known_one() {
        let known = ["MORELIKE_MEMORY_BUDGET", "MORELIKE_MAX_BODY_BYTES"];
        let set = names(&[
            "MORELIKE_MEMORY_BUDJET",
            "MORELIKE_MEMORY_BUDGET",
            "MORELIKE_LOG",
            "MORELIKE_BENCH_PAGES",
            "MORELIKE_SOMETHING_ELSE_ENTIRELY",
            "PATH",
        ]);
        assert_eq!(
            unknown(known, set),
            [
                Unknown {
                    name: "MORELIKE_MEMORY_BUDJET".into(),
                    nearest: Some("MORELIKE_MEMORY_BUDGET".into()),
                },
                Unknown {
                    name: "MORELIKE_SOMETHING_ELSE_ENTIRELY".into(),
                    nearest: None,
                },
            ]
        );
    }

    #[test]
    fn distance_counts_single_letter_edits() {
        assert_eq!(distance("BUDJET", "BUDGET"), 1);
        assert_eq!(distance("BUDGET", "BUDGETS"), 1);
        assert_eq!(distance("", "AB"), 2);
        assert_eq!(distance("SAME", "SAME"), 0);
    }
}

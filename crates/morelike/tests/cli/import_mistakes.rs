//! A merchant's mistakes in a catalog file or a mapping, as an outside
//! tester made them on the release binary: each reported clearly, nothing
//! stored lost.

use std::path::Path;
use std::process::Output;

use super::{fashion, morelike, repo};

/// `morelike import FILE --store fashion --mapping MAPPING --json`.
fn import(data: &Path, file: &Path, mapping: &Path) -> Output {
    morelike(
        data,
        &[
            "import",
            file.to_str().unwrap(),
            "--store",
            "fashion",
            "--mapping",
            mapping.to_str().unwrap(),
            "--json",
        ],
    )
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn an_unclosed_quote_rejects_its_row_and_keeps_the_rows_it_swallowed() {
    // { head -2 styles.csv; echo '99903,…,"Chain 18 inch'; sed -n 3,200p styles.csv; }
    let dir = tempfile::tempdir().unwrap();
    let styles = std::fs::read_to_string(fashion()).unwrap();
    let lines: Vec<&str> = styles.lines().collect();
    let mut text = lines[..2].join("\n") + "\n";
    text += "99903,Men,Apparel,Topwear,Shirts,Blue,Fall,2011,Casual,\"Chain 18 inch\n";
    text += &(lines[2..200].join("\n") + "\n");
    let file = dir.path().join("quote2.csv");
    std::fs::write(&file, text).unwrap();
    let out = import(dir.path(), &file, &repo().join("examples/fashion.toml"));
    assert_eq!(out.status.code(), Some(0), "some rows imported: exit 0");
    let report = json(&out);
    assert_eq!(report["rows"], 200, "{report}");
    assert_eq!(report["imported"], 199);
    assert_eq!(report["rejected"], 1);
    let error = &report["errors"][0];
    assert_eq!(error["line"], 3);
    let reason = error["reason"].as_str().unwrap();
    for part in [
        "quote opened on line 3 is never closed",
        "lines 4–201",
        "read again as rows",
        "\"\"",
    ] {
        assert!(reason.contains(part), "{part}: {reason}");
    }
    let out = morelike(dir.path(), &["similar", "15970", "--store", "fashion"]);
    assert!(out.status.success());
    // The last row of the file was kept with its own name.
    let last_id = lines[199].split(',').next().unwrap();
    let out = morelike(dir.path(), &["similar", last_id, "--store", "fashion"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_import_that_rejects_every_row_changes_nothing_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let good = repo().join("examples/fashion.toml");
    let out = import(dir.path(), &fashion(), &good);
    assert!(out.status.success());
    let similar = || {
        morelike(
            dir.path(),
            &["similar", "15970", "--store", "fashion", "--json"],
        )
    };
    let before = similar();
    assert!(before.status.success());
    // `gender` read as a number: no row of the file has one.
    let text = std::fs::read_to_string(&good)
        .unwrap()
        .replace("categorical = [\"gender\", ", "categorical = [")
        .replace("numeric = [\"year\"]", "numeric = [\"year\", \"gender\"]")
        .replace(
            "name = \"gender\"\nkind = \"categorical\"",
            "name = \"gender\"\nkind = \"numeric\"",
        );
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, text).unwrap();
    let out = import(dir.path(), &fashion(), &broken);
    assert_eq!(out.status.code(), Some(1), "nothing imported: exit 1");
    let report = json(&out);
    assert_eq!(report["imported"], 0, "{report}");
    assert_eq!(report["rejected"], 44_446);
    assert_eq!(report["stored"], false);
    let err = String::from_utf8_lossy(&out.stderr);
    for part in [
        "nothing was imported",
        "44446 rows was rejected",
        "'fashion' is unchanged",
    ] {
        assert!(err.contains(part), "{part}: {err}");
    }
    let after = similar();
    assert_eq!(
        String::from_utf8_lossy(&after.stdout),
        String::from_utf8_lossy(&before.stdout),
        "the store is served as before"
    );
    // The stored mapping is the good one: importing under it changes nothing.
    let again = json(&import(dir.path(), &fashion(), &good));
    assert_eq!(
        (&again["added"], &again["updated"], &again["unchanged"]),
        (&0.into(), &0.into(), &44_446.into())
    );
}

#[test]
fn every_missing_column_is_named_and_an_empty_file_is_called_empty() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = repo().join("examples/fashion.toml");
    let file = dir.path().join("two.csv");
    std::fs::write(&file, "id,name\n1,Shirt\n").unwrap();
    let out = import(dir.path(), &file, &mapping);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for column in [
        "'productDisplayName'",
        "'gender'",
        "'masterCategory'",
        "'subCategory'",
        "'articleType'",
        "'baseColour'",
        "'season'",
        "'usage'",
        "'year'",
        "header has: id, name",
    ] {
        assert!(err.contains(column), "{column}: {err}");
    }
    std::fs::write(&file, "").unwrap();
    let out = import(dir.path(), &file, &mapping);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the file is empty"), "{err}");
}

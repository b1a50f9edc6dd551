//! The `morelike` binary's commands, run as a merchant would run them, on the
//! real fashion catalog.

mod import_mistakes;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fashion() -> PathBuf {
    repo().join("../shared/data/fashion/styles.csv")
}

fn morelike(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_morelike"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env("MORELIKE_LOG", "warn")
        .output()
        .unwrap()
}

fn import_fashion(data: &Path) -> serde_json::Value {
    let mapping = repo().join("examples/fashion.toml");
    let out = morelike(
        data,
        &[
            "import",
            fashion().to_str().unwrap(),
            "--store",
            "fashion",
            "--mapping",
            mapping.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn importing_twice_writes_only_what_changed_and_similar_finds_neighbours() {
    let dir = tempfile::tempdir().unwrap();
    let first = import_fashion(dir.path());
    assert_eq!(first["imported"], 44_446);
    assert_eq!(first["repaired"], 22);
    assert_eq!(first["rejected"], 0);
    assert_eq!(first["added"], 44_446);
    let secret = first["secret_key"].as_str().unwrap();
    assert!(
        secret.starts_with("sk_fashion_"),
        "a new store gets its keys once: {secret}"
    );
    assert!(first["publishable_key"]
        .as_str()
        .unwrap()
        .starts_with("pk_fashion_"));
    let again = import_fashion(dir.path());
    assert!(
        again.get("secret_key").is_none(),
        "keys are shown only once"
    );
    assert_eq!(again["added"], 0);
    assert_eq!(again["updated"], 0);
    assert_eq!(again["unchanged"], 44_446);

    let out = morelike(
        dir.path(),
        &["similar", "15970", "--store", "fashion", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hits: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(hits.len(), 8);
    assert!(hits.iter().all(|h| h["id"] != "15970"));
    assert!(
        hits[0]["name"].as_str().unwrap().contains("Shirt"),
        "{:?}",
        hits[0]
    );

    let gone = hits[0]["id"].as_str().unwrap().to_owned();
    let out = morelike(dir.path(), &["delete", &gone, "--store", "fashion"]);
    assert!(out.status.success());
    let out = morelike(dir.path(), &["similar", &gone, "--store", "fashion"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("no product with id '{gone}'")),
        "{err}"
    );

    let mut child = Command::new(env!("CARGO_BIN_EXE_morelike"))
        .args([
            "session",
            "--store",
            "fashion",
            "--seed",
            "15970",
            "--data-dir",
        ])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"+1 -8\nbogus\nundo\nexplain 2\nquit\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("— round 2 —"), "{text}");
    assert!(text.contains("'bogus' is not a vote"), "{text}");
    assert!(text.contains("took back 2 vote(s)"), "{text}");
    assert!(text.contains("\"views\""), "{text}");
}

#[test]
fn a_bad_mapping_is_refused_with_what_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("bad.toml");
    std::fs::write(
        &mapping,
        "[fields]\nid = \"id\"\nname = \"productDisplayName\"\n[[views]]\nname = \"c\"\nkind = \"categorical\"\nfields = [\"brand\"]\n",
    )
    .unwrap();
    let out = morelike(
        dir.path(),
        &[
            "import",
            fashion().to_str().unwrap(),
            "--store",
            "s",
            "--mapping",
            mapping.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'brand'") && err.contains("bad.toml"), "{err}");
}

#[test]
fn similar_on_a_store_that_does_not_exist_says_to_import_first() {
    let dir = tempfile::tempdir().unwrap();
    let out = morelike(dir.path(), &["similar", "1", "--store", "nope"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("import a catalog into it first"));
}

fn eval(args: &[&str]) -> Output {
    let mapping = repo().join("examples/fashion.toml");
    Command::new(env!("CARGO_BIN_EXE_morelike"))
        .args(["eval", "--catalog", fashion().to_str().unwrap()])
        .args(["--mapping", mapping.to_str().unwrap()])
        .args(args)
        .env("MORELIKE_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn eval_scores_every_scenario_on_a_second_truth_at_uniform_weights_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("eval.json");
    let out = eval(&[
        "--shoppers",
        "3",
        "--strategies",
        "probe,random",
        "--weights",
        "uniform",
        "--truth",
        "masterCategory,subCategory,usage",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(
        report["truth"],
        serde_json::json!(["masterCategory", "subCategory", "usage"])
    );
    let weights = report["weights"].as_object().unwrap();
    assert_eq!(weights.len(), 6);
    assert!(weights.values().all(|w| w == 1.0), "{weights:?}");
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2 * 4, "two strategies × four scenarios");
    for row in rows {
        let scenario = row["scenario"].as_str().unwrap();
        for metric in ["sr5", "sr10", "at", "dup_names"] {
            assert!(row[metric]["mean"].is_number(), "{metric} in {row}");
            assert!(row[metric]["spread"].is_number(), "{metric} in {row}");
        }
        let own = match scenario {
            "browse" => "p_first",
            "refine" | "explore" => "p_after_hit",
            "reject" => "downvoted_share",
            other => panic!("unexpected scenario {other}"),
        };
        assert!(row[own]["mean"].is_number(), "{own} in {row}");
    }
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("| strategy | p_first |"), "{table}");
    assert!(table.contains("downvoted_share"), "{table}");
}

#[test]
fn eval_refuses_a_bad_truth_scenario_or_weight_with_what_to_fix() {
    let cases: [(&[&str], &str); 4] = [
        (&["--truth", "gender,articleType"], "exactly three"),
        (
            &["--truth", "gender,articleType,colour"],
            "no product has the truth attribute 'colour'",
        ),
        (&["--scenarios", "shop"], "no scenario 'shop'"),
        (&["--weights", "colour=lots"], "NAME=NUMBER or 'uniform'"),
    ];
    for (args, says) in cases {
        let out = eval(args);
        assert!(!out.status.success(), "{args:?} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

/// Imports a small CSV (the fashion columns) into the store `small`.
fn import_rows(data: &Path, rows: &[&str]) -> serde_json::Value {
    import_rows_with(data, rows, &[])
}

/// [`import_rows`] with more arguments.
fn import_rows_with(data: &Path, rows: &[&str], more: &[&str]) -> serde_json::Value {
    let out = import_rows_output(data, rows, more);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What `morelike import` of a small CSV into `small` answers.
fn import_rows_output(data: &Path, rows: &[&str], more: &[&str]) -> Output {
    let file = data.join("rows.csv");
    let header = "id,gender,masterCategory,subCategory,articleType,baseColour,season,year,usage,productDisplayName";
    std::fs::write(&file, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
    let mapping = repo().join("examples/fashion.toml");
    let mut args = vec![
        "import",
        file.to_str().unwrap(),
        "--store",
        "small",
        "--mapping",
        mapping.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(more);
    morelike(data, &args)
}

#[test]
fn the_import_precision_is_the_stores_and_a_reimport_without_it_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let rows = [
        "1,Men,Apparel,Topwear,Shirts,Navy Blue,Fall,2011,Casual,Turtle Check Men Navy Blue Shirt",
        "2,Women,Apparel,Topwear,Tops,Red,Summer,2012,Casual,Red Summer Top",
        "3,Men,Footwear,Shoes,Casual Shoes,Black,Winter,2013,Casual,Black Shoes",
    ];
    let stored = |data: &Path| {
        let storage = morelike::store::Embedded::open(data).unwrap();
        morelike::store::Storage::settings(&storage, "small")
            .unwrap()
            .unwrap()
            .precision
    };
    assert_eq!(
        import_rows(dir.path(), &rows)["precision"],
        "i8",
        "the default"
    );
    assert_eq!(stored(dir.path()), morelike_core::Precision::I8);
    let report = import_rows_with(dir.path(), &rows, &["--precision", "f32"]);
    assert_eq!(report["precision"], "f32");
    assert_eq!(stored(dir.path()), morelike_core::Precision::F32);
    assert_eq!(
        import_rows(dir.path(), &rows[..2])["precision"],
        "f32",
        "kept"
    );
    assert_eq!(stored(dir.path()), morelike_core::Precision::F32);

    let out = import_rows_output(dir.path(), &rows, &["--precision", "f16"]);
    assert!(!out.status.success(), "f16 was accepted");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown precision 'f16': use f32 or i8"),
        "{err}"
    );
    assert_eq!(
        stored(dir.path()),
        morelike_core::Precision::F32,
        "unchanged"
    );

    let report = import_rows_with(dir.path(), &rows, &["--precision", "i8"]);
    assert_eq!(report["precision"], "i8");
    assert_eq!(stored(dir.path()), morelike_core::Precision::I8);
}

#[test]
fn a_streamed_import_counts_each_id_once_by_its_last_row_and_keeps_the_last_row() {
    let dir = tempfile::tempdir().unwrap();
    let shirt = |id: &str, colour: &str| {
        format!("{id},Men,Apparel,Topwear,Shirts,{colour},Fall,2011,Casual,Men {colour} Shirt {id}")
    };
    let first: Vec<String> = (0..30)
        .map(|i| shirt(&format!("s{i}"), ["Blue", "Red", "Green"][i % 3]))
        .collect();
    let first: Vec<&str> = first.iter().map(String::as_str).collect();
    let report = import_rows(dir.path(), &first);
    assert_eq!(
        (&report["rows"], &report["added"], &report["rejected"]),
        (&30.into(), &30.into(), &0.into())
    );

    // s0 changed and changed back (unchanged), s1 changed twice (updated
    // once), n1 new twice (added once), s2 as it was, and one bad row.
    let (s0_red, s0) = (shirt("s0", "Red"), shirt("s0", "Blue"));
    let (s1_a, s1_b) = (shirt("s1", "Black"), shirt("s1", "White"));
    let (n1_a, n1_b) = (shirt("n1", "Pink"), shirt("n1", "Grey"));
    let s2 = shirt("s2", "Green");
    let bad = "s3,Men,Apparel,Topwear,Shirts,Blue,Fall,not a year,Casual,Bad Year Shirt";
    let second = [
        s0_red.as_str(),
        s1_a.as_str(),
        n1_a.as_str(),
        bad,
        s0.as_str(),
        s2.as_str(),
        s1_b.as_str(),
        n1_b.as_str(),
    ];
    let report = import_rows(dir.path(), &second);
    assert_eq!(report["rows"], 8, "{report}");
    assert_eq!(report["imported"], 7);
    assert_eq!(report["rejected"], 1);
    assert_eq!(report["errors"][0]["line"], 5);
    assert_eq!(report["errors"][0]["field"], "year");
    assert_eq!(report["added"], 1, "{report}");
    assert_eq!(report["updated"], 1, "{report}");
    assert_eq!(report["unchanged"], 2, "{report}");

    // What is stored is each id's last row; the rejected row changed nothing.
    let out = morelike(
        dir.path(),
        &["similar", "s1", "--store", "small", "--json", "--k", "40"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hits: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let name = |id: &str| {
        hits.iter()
            .find(|h| h["id"] == id)
            .map(|h| h["name"].as_str().unwrap().to_owned())
    };
    assert_eq!(hits.len(), 30, "31 products less the seed");
    assert_eq!(name("s0").as_deref(), Some("Men Blue Shirt s0"));
    assert_eq!(name("n1").as_deref(), Some("Men Grey Shirt n1"));
    assert_eq!(name("s3").as_deref(), Some("Men Blue Shirt s3"));
}

#[test]
fn a_data_directory_another_process_holds_says_who_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    import_rows(
        dir.path(),
        &["1,Men,Apparel,Topwear,Shirts,Navy Blue,Fall,2011,Casual,Navy Shirt"],
    );
    // This test's process holds the data directory, as a running server does.
    let held = morelike::store::Embedded::open(dir.path()).unwrap();
    let file = repo().join("examples/fashion.toml");
    let catalog = fashion();
    let commands: [&[&str]; 3] = [
        &[
            "import",
            catalog.to_str().unwrap(),
            "--store",
            "small",
            "--mapping",
            file.to_str().unwrap(),
        ],
        &["similar", "1", "--store", "small"],
        &["delete", "--store", "small", "1"],
    ];
    for args in commands {
        let out = morelike(dir.path(), args);
        assert!(!out.status.success(), "{args:?} opened a held directory");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("another morelike process") && err.contains("POST /v1/stores/"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("Cannot acquire lock"), "{args:?}: {err}");
    }
    drop(held);
}

/// Starts `morelike serve` with a config file and environment, reads its
/// log until it serves (or exits), stops it; its log.
fn serve_log(data: &Path, config: &str, env: &[(&str, &str)]) -> String {
    use std::io::{BufRead, BufReader};
    let file = data.join("morelike.toml");
    std::fs::write(&file, config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_morelike"))
        .args(["serve", "--listen", "127.0.0.1:0", "--no-demo", "--config"])
        .arg(&file)
        .arg("--data-dir")
        .arg(data.join("data"))
        .env("MORELIKE_LOG", "warn")
        .env_remove("MORELIKE_ADMIN_KEY")
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = String::new();
    for line in BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map_while(Result::ok)
    {
        log.push_str(&line);
        log.push('\n');
        if line.contains("serving on http://") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    log
}

#[test]
fn the_environments_admin_key_wins_before_the_files_is_judged_and_unknown_variables_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let log = serve_log(
        dir.path(),
        "admin_key = \"short\"\n",
        &[
            (
                "MORELIKE_ADMIN_KEY",
                "an-admin-key-that-is-long-enough-0123",
            ),
            ("MORELIKE_MEMORY_BUDJET", "1MB"),
        ],
    );
    assert!(log.contains("serving on http://"), "{log}");
    assert!(!log.contains("the admin key is 5 characters"), "{log}");
    let line = log
        .lines()
        .find(|l| l.contains("MORELIKE_MEMORY_BUDJET"))
        .unwrap_or_else(|| panic!("the misspelling is not named: {log}"));
    assert!(
        line.contains("WARN") && line.contains("did you mean MORELIKE_MEMORY_BUDGET"),
        "{line}"
    );

    // Without the environment's key, the file's is the one judged.
    let log = serve_log(dir.path(), "admin_key = \"short\"\n", &[]);
    assert!(log.contains("the admin key is 5 characters"), "{log}");
}

#[test]
fn a_missing_lookup_table_is_named_where_it_was_looked_for_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let mappings = dir.path().join("mappings");
    std::fs::create_dir(&mappings).unwrap();
    let mapping = mappings.join("groceries.toml");
    std::fs::write(
        &mapping,
        "[fields]\nid = \"product_id\"\nname = \"product_name\"\ncategorical = [\"department\"]\n\
         [[lookups]]\nfield = \"department_id\"\nfile = \"../tables/departments.csv\"\n\
         key = \"department_id\"\nvalue = \"department\"\ninto = \"department\"\n",
    )
    .unwrap();
    let products = dir.path().join("products.csv");
    std::fs::write(
        &products,
        "product_id,product_name,department_id\n1,Milk,16\n",
    )
    .unwrap();
    let out = morelike(
        &dir.path().join("data"),
        &[
            "import",
            products.to_str().unwrap(),
            "--store",
            "groceries",
            "--mapping",
            mapping.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let resolved = std::path::absolute(mappings.join("../tables/departments.csv")).unwrap();
    assert!(err.contains(&resolved.display().to_string()), "{err}");
    assert!(
        err.contains("relative to the folder of the mapping file"),
        "{err}"
    );
}

#[test]
fn a_delete_names_the_ids_the_store_does_not_have() {
    let dir = tempfile::tempdir().unwrap();
    import_rows(
        dir.path(),
        &["1,Men,Apparel,Topwear,Shirts,Navy Blue,Fall,2011,Casual,Navy Shirt"],
    );
    let out = morelike(
        dir.path(),
        &["delete", "--store", "small", "1", "nope-2", "nope-3"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("deleted 1 of 3 products"), "{said}");
    assert!(
        said.contains("not found") && said.contains("'nope-2', 'nope-3'"),
        "{said}"
    );
    assert!(!said.contains("'1'"), "{said}");
}

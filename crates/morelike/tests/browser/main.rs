//! The widget and the demo page in a real headless Chromium, against a real
//! `morelike serve`: runs `widget/tests/demo.e2e.mjs` and
//! `widget/tests/security.e2e.mjs` (playwright-core) and fails loudly when
//! Node.js, the npm packages or Chromium are missing.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_widget_and_the_demo_page_work_in_a_real_browser() {
    run("widget/tests/demo.e2e.mjs");
}

#[test]
fn the_widget_embeds_from_an_allowed_origin_refuses_others_and_hostile_data_never_executes() {
    run("widget/tests/security.e2e.mjs");
}

fn run(script: &str) {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    assert!(
        repo.join("widget/node_modules/playwright-core").exists(),
        "the browser test needs its npm packages: run `npm ci` in widget/ (scripts/test does)"
    );
    let status = Command::new("node")
        .arg(script)
        .current_dir(&repo)
        .env("MORELIKE_BIN", env!("CARGO_BIN_EXE_morelike"))
        .env("SCREENSHOTS", repo.join("target/screenshots"))
        .status()
        .expect("the browser test needs Node.js (`node`) on the PATH: scripts/test installs it");
    assert!(
        status.success(),
        "the browser test failed: see its output above"
    );
}

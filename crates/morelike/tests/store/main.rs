//! The storage conformance suite: every backend must pass the same checks.
//! Here it runs against the embedded store.

mod conformance;

use morelike::store::Embedded;

fn embedded() -> (tempfile::TempDir, Embedded) {
    let dir = tempfile::tempdir().unwrap();
    let store = Embedded::open(dir.path()).unwrap();
    (dir, store)
}

macro_rules! conformance_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let (_dir, store) = embedded();
                conformance::$name(&store);
            }
        )*
    };
}

conformance_tests!(
    settings_round_trip_and_stores_are_listed,
    products_round_trip_with_every_field,
    products_of_one_store_are_invisible_to_another,
    deleting_products_counts_only_those_that_existed,
    sessions_round_trip_and_expire,
    deleting_a_store_leaves_other_stores_intact,
    access_records_are_kept_per_store_and_go_with_the_store,
);

#[test]
fn embedded_data_survives_closing_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Embedded::open(dir.path()).unwrap();
        conformance::products_round_trip_with_every_field(&store);
    }
    let store = Embedded::open(dir.path()).unwrap();
    let products = morelike::store::Storage::products(&store, "shop").unwrap();
    assert_eq!(products.len(), 2);
}

#[test]
fn opening_a_data_dir_that_is_a_file_fails_with_the_path_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let err = Embedded::open(&file)
        .err()
        .expect("a file is not a data directory");
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}

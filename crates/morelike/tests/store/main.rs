//! The storage conformance suite: every backend must pass the same checks.
//! It runs against the embedded store, a standalone Redis and a
//! three-master Redis Cluster (`redis_backend.rs`), each check on an empty
//! store.

mod conformance;
mod redis_backend;
#[path = "../support/redis.rs"]
#[allow(dead_code)] // shared with other test binaries
mod redis_servers;
mod snapshots;

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

/// Every check of the suite, handed to a macro that makes tests of them.
macro_rules! every_check {
    ($make:ident) => {
        $make!(
            settings_round_trip_and_stores_are_listed,
            products_round_trip_with_every_field,
            products_of_one_store_are_invisible_to_another,
            the_products_version_changes_with_every_change_of_a_stores_products,
            deleting_products_counts_only_those_that_existed,
            sessions_round_trip_with_their_version_and_expire,
            a_session_write_from_a_stale_version_is_refused_and_writes_nothing,
            one_batch_writes_the_current_sessions_and_skips_the_stale_ones,
            expired_sessions_are_purged_in_bounded_batches_and_live_ones_kept,
            a_probe_write_succeeds_on_healthy_storage,
            deleting_a_store_leaves_other_stores_intact,
            access_records_are_kept_per_store_and_go_with_the_store,
        );
    };
}
pub(crate) use every_check;

every_check!(conformance_tests);

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

mod embedded_faults {
    //! What only the embedded store must show: it recovers from a full disk
    //! without a restart, moves sessions of the old format, and keeps its
    //! file bounded while sessions come and expire.

    use std::time::Duration;

    use morelike::store::{DiskFaults, Embedded, SessionWrite, Storage, StorageError};
    use morelike_core::{Product, Session};

    fn session(seed: &str, shown: usize) -> Session {
        Session {
            seed: seed.into(),
            votes: Vec::new(),
            shown: (0..shown).map(|i| format!("product-{i}")).collect(),
            round: 3,
            k: 8,
            filters: Default::default(),
            last_page: Vec::new(),
        }
    }

    fn write(id: &str, session: &Session, replaces: u64) -> SessionWrite {
        SessionWrite {
            store: "shop".into(),
            id: id.into(),
            session: session.clone().into(),
            replaces,
            version: replaces + 1,
        }
    }

    #[test]
    fn a_full_disk_fails_writes_as_unavailable_and_they_succeed_again_once_it_has_room() {
        let dir = tempfile::tempdir().unwrap();
        let disk = DiskFaults::default();
        let store = Embedded::open_with_faults(dir.path(), disk.clone()).unwrap();
        store
            .put_products("shop", &[Product::new("kept", "Before the disk filled")])
            .unwrap();
        disk.fill();
        for _ in 0..3 {
            let err = store
                .put_products("shop", &[Product::new("lost", "While full")])
                .unwrap_err();
            assert!(matches!(err, StorageError::Unavailable { .. }), "{err}");
            assert!(err.to_string().contains("No space left"), "{err}");
        }
        assert!(store.probe_write().is_err());
        disk.free();
        store
            .probe_write()
            .expect("writes succeed again without a restart");
        store
            .put_products("shop", &[Product::new("after", "After space was freed")])
            .unwrap();
        let mut ids: Vec<String> = store
            .products("shop")
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect();
        ids.sort();
        assert_eq!(ids, ["after", "kept"], "nothing written before is lost");
    }

    #[test]
    fn sessions_stored_in_the_format_before_versions_are_moved_on_open() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = redb::Database::create(dir.path().join("morelike.redb")).unwrap();
            let legacy: redb::TableDefinition<(&str, &str), &[u8]> =
                redb::TableDefinition::new("sessions");
            let tx = db.begin_write().unwrap();
            {
                let mut table = tx.open_table(legacy).unwrap();
                let value = serde_json::json!({
                    "session": session("p-1", 3),
                    "expires_at": morelike::store::now_secs() + 3600,
                });
                table
                    .insert(("shop", "old"), value.to_string().as_bytes())
                    .unwrap();
            }
            tx.commit().unwrap();
        }
        let store = Embedded::open(dir.path()).unwrap();
        let moved = store.session("shop", "old").unwrap().expect("kept");
        assert_eq!((moved.version, moved.session.shown.len()), (1, 3));
        drop(store);
        let store = Embedded::open(dir.path()).unwrap();
        assert!(store.session("shop", "old").unwrap().is_some(), "once only");
    }

    /// The file size after waves of 2,000 sessions that expire at once,
    /// written in batches as the server does, then (if `purge`) purged in
    /// small batches as the server does.
    fn file_sizes(purge: bool) -> Vec<u64> {
        let dir = tempfile::tempdir().unwrap();
        let store = Embedded::open(dir.path()).unwrap();
        let file = dir.path().join("morelike.redb");
        let s = session("p-1", 160);
        (0..8)
            .map(|wave| {
                for batch in 0..20 {
                    let writes: Vec<SessionWrite> = (0..100)
                        .map(|i| write(&format!("w{wave}-{batch}-{i}"), &s, 0))
                        .collect();
                    store.put_sessions(&writes, Duration::ZERO).unwrap();
                }
                while purge && store.purge_expired_sessions(256).unwrap() > 0 {}
                std::fs::metadata(&file).unwrap().len()
            })
            .collect()
    }

    #[test]
    fn the_file_stays_bounded_while_sessions_come_and_expire() {
        let purged = file_sizes(true);
        let kept = file_sizes(false);
        let largest = *purged.iter().max().unwrap();
        // Purged: the freed pages are reused, the size hovers; kept: it grows
        // with every wave.
        assert!(
            largest * 3 < *kept.last().unwrap(),
            "purged {purged:?} vs never purged {kept:?}"
        );
        assert!(
            purged[7] <= 3 * purged[0],
            "the file grows with the waves: {purged:?}"
        );
    }
}

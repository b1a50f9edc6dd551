//! Checks every storage backend must pass, written once against the trait.

use std::collections::BTreeMap;
use std::time::Duration;

use morelike::store::{SessionWrite, SessionWritten, Storage, StoreAccess, StoreSettings};
use morelike_core::{Mapping, Product, Session};

fn mapping() -> Mapping {
    Mapping::from_toml("[fields]\nid = \"id\"\nname = \"name\"\ncategorical = [\"colour\"]\n")
        .unwrap()
}

fn products() -> Vec<Product> {
    let mut full = Product::new("p-1", "Grüne Jacke, \"wasserdicht\"")
        .with_attribute("colour", "Grün")
        .with_number("year", 2024.0);
    full.price = Some(129.5);
    full.image = Some("https://example.test/p-1.jpg".into());
    full.in_stock = false;
    full.vectors.insert("emb".into(), vec![0.25, -1.5, 3.0]);
    vec![full, Product::new("p-2", "Plain")]
}

fn session(seed: &str) -> Session {
    Session {
        seed: seed.into(),
        votes: Vec::new(),
        shown: [seed].into_iter().collect(),
        round: 0,
        k: 8,
        filters: Default::default(),
        last_page: vec![("p-2".into(), 0.5)],
    }
}

fn write(store: &str, id: &str, session: &Session, replaces: u64, version: u64) -> SessionWrite {
    SessionWrite {
        store: store.into(),
        id: id.into(),
        session: session.clone().into(),
        replaces,
        version,
    }
}

const HOUR: Duration = Duration::from_secs(3600);

pub fn settings_round_trip_and_stores_are_listed(store: &dyn Storage) {
    assert_eq!(store.settings("shop").unwrap(), None);
    let mut settings = StoreSettings::new(mapping());
    settings.weights = BTreeMap::from([("colour".to_owned(), 2.5)]);
    store.put_settings("shop", &settings).unwrap();
    store
        .put_settings("other", &StoreSettings::new(mapping()))
        .unwrap();
    assert_eq!(store.settings("shop").unwrap(), Some(settings));
    assert_eq!(store.stores().unwrap(), ["other", "shop"]);
}

pub fn products_round_trip_with_every_field(store: &dyn Storage) {
    store.put_products("shop", &products()).unwrap();
    let mut back = store.products("shop").unwrap();
    back.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(back, products());
    let mut changed = products()[1].clone();
    changed.name = "Plain v2".into();
    store.put_products("shop", &[changed.clone()]).unwrap();
    let back = store.products("shop").unwrap();
    assert_eq!(back.len(), 2, "an upsert replaces, it does not add");
    assert!(back.contains(&changed));
    assert_eq!(
        store.product("shop", "p-1").unwrap(),
        Some(products()[0].clone())
    );
    assert_eq!(store.product("shop", "p-2").unwrap(), Some(changed));
    assert_eq!(store.product("shop", "p-3").unwrap(), None);
    assert_eq!(store.product("other", "p-1").unwrap(), None);
}

pub fn the_products_version_changes_with_every_change_of_a_stores_products(store: &dyn Storage) {
    let mut seen = vec![store.products_version("shop").unwrap()];
    let mut changed = |store: &dyn Storage, what: &str| {
        let now = store.products_version("shop").unwrap();
        assert!(!seen.contains(&now), "{what}: version {now} seen before");
        seen.push(now);
    };
    store.put_products("shop", &products()).unwrap();
    changed(store, "put");
    let shop = store.products_version("shop").unwrap();
    let before = store.products_version("other").unwrap();
    store.put_products("other", &products()).unwrap();
    assert_ne!(store.products_version("other").unwrap(), before);
    assert_eq!(
        store.products_version("shop").unwrap(),
        shop,
        "another store's change"
    );
    store.delete_products("shop", &["p-1".into()]).unwrap();
    changed(store, "delete");
    let version = store.products_version("shop").unwrap();
    store.delete_products("shop", &["no-such".into()]).unwrap();
    assert_eq!(
        store.products_version("shop").unwrap(),
        version,
        "deleting nothing changes nothing"
    );
    store
        .put_settings("shop", &StoreSettings::new(mapping()))
        .unwrap();
    store.delete_store("shop").unwrap();
    changed(store, "store deleted");
    store.put_products("shop", &products()).unwrap();
    changed(store, "store made anew with the same products");
}

pub fn products_of_one_store_are_invisible_to_another(store: &dyn Storage) {
    store.put_products("a", &products()).unwrap();
    store
        .put_products("ab", &[Product::new("x", "other store")])
        .unwrap();
    assert_eq!(store.products("b").unwrap(), []);
    assert_eq!(store.products("a").unwrap().len(), 2);
    assert_eq!(store.products("ab").unwrap().len(), 1);
    assert_eq!(store.delete_products("b", &["p-1".into()]).unwrap(), 0);
    assert_eq!(store.products("a").unwrap().len(), 2);
}

pub fn deleting_products_counts_only_those_that_existed(store: &dyn Storage) {
    store.put_products("shop", &products()).unwrap();
    let n = store
        .delete_products("shop", &["p-1".into(), "nope".into()])
        .unwrap();
    assert_eq!(n, 1);
    let left = store.products("shop").unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, "p-2");
}

pub fn sessions_round_trip_with_their_version_and_expire(store: &dyn Storage) {
    let s = session("p-1");
    let written = store.put_session(write("shop", "s1", &s, 0, 1), HOUR);
    assert_eq!(written.unwrap(), SessionWritten::Written);
    let back = store.session("shop", "s1").unwrap().unwrap();
    assert_eq!((back.session, back.version), (s.clone(), 1));
    assert_eq!(
        store.session("other", "s1").unwrap(),
        None,
        "sessions belong to one store"
    );
    assert_eq!(store.session("shop", "s2").unwrap(), None);
    store
        .put_session(write("shop", "old", &s, 0, 1), Duration::ZERO)
        .unwrap();
    assert_eq!(
        store.session("shop", "old").unwrap(),
        None,
        "an expired session is gone"
    );
}

pub fn a_session_write_from_a_stale_version_is_refused_and_writes_nothing(store: &dyn Storage) {
    let first = session("p-1");
    store
        .put_session(write("shop", "s", &first, 0, 1), HOUR)
        .unwrap();
    let mut second = first.clone();
    second.round = 1;
    let ok = store.put_session(write("shop", "s", &second, 1, 2), HOUR);
    assert_eq!(ok.unwrap(), SessionWritten::Written);
    // Two writers read version 1; the second one to write loses.
    let mut stale = first.clone();
    stale.round = 7;
    let refused = store.put_session(write("shop", "s", &stale, 1, 2), HOUR);
    assert_eq!(refused.unwrap(), SessionWritten::Stale { stored: 2 });
    let again = store.put_session(write("shop", "s", &stale, 0, 1), HOUR);
    assert_eq!(
        again.unwrap(),
        SessionWritten::Stale { stored: 2 },
        "a new session cannot replace a stored one"
    );
    let back = store.session("shop", "s").unwrap().unwrap();
    assert_eq!((back.session.round, back.version), (1, 2));
    let missing = store.put_session(write("shop", "none", &first, 3, 4), HOUR);
    assert_eq!(missing.unwrap(), SessionWritten::Stale { stored: 0 });
    assert_eq!(store.session("shop", "none").unwrap(), None);
}

pub fn one_batch_writes_the_current_sessions_and_skips_the_stale_ones(store: &dyn Storage) {
    let s = session("p-1");
    store
        .put_session(write("shop", "a", &s, 0, 1), HOUR)
        .unwrap();
    let outcomes = store
        .put_sessions(
            &[
                write("shop", "a", &s, 1, 2),
                write("shop", "b", &s, 5, 6),
                write("shop", "c", &s, 0, 1),
            ],
            HOUR,
        )
        .unwrap();
    assert_eq!(
        outcomes,
        [
            SessionWritten::Written,
            SessionWritten::Stale { stored: 0 },
            SessionWritten::Written
        ]
    );
    assert_eq!(store.session("shop", "a").unwrap().unwrap().version, 2);
    assert_eq!(store.session("shop", "b").unwrap(), None);
    assert_eq!(store.session("shop", "c").unwrap().unwrap().version, 1);
}

pub fn expired_sessions_are_purged_in_bounded_batches_and_live_ones_kept(store: &dyn Storage) {
    let s = session("p-1");
    for i in 0..25 {
        store
            .put_session(
                write("shop", &format!("gone-{i}"), &s, 0, 1),
                Duration::ZERO,
            )
            .unwrap();
    }
    store
        .put_session(write("shop", "kept", &s, 0, 1), HOUR)
        .unwrap();
    // A session written with a TTL of 0 and rewritten with a long one lives.
    store
        .put_session(write("shop", "renewed", &s, 0, 1), Duration::ZERO)
        .unwrap();
    store
        .put_session(write("shop", "renewed", &s, 1, 2), HOUR)
        .unwrap();
    let mut purged = Vec::new();
    loop {
        let n = store.purge_expired_sessions(10).unwrap();
        assert!(n <= 10, "a batch purges at most its limit, not {n}");
        if n == 0 {
            break;
        }
        purged.push(n);
    }
    assert_eq!(purged, [10, 10, 5]);
    assert!(store.session("shop", "kept").unwrap().is_some());
    assert_eq!(
        store.session("shop", "renewed").unwrap().unwrap().version,
        2
    );
    // A purged session is gone for good: writing it anew starts from nothing.
    let fresh = store.put_session(write("shop", "gone-3", &s, 0, 1), HOUR);
    assert_eq!(fresh.unwrap(), SessionWritten::Written);
}

pub fn a_probe_write_succeeds_on_healthy_storage(store: &dyn Storage) {
    store.probe_write().unwrap();
    assert_eq!(store.stores().unwrap(), Vec::<String>::new());
}

pub fn deleting_a_store_leaves_other_stores_intact(store: &dyn Storage) {
    for name in ["gone", "kept"] {
        store
            .put_settings(name, &StoreSettings::new(mapping()))
            .unwrap();
        store.put_products(name, &products()).unwrap();
        store
            .put_session(write(name, "s", &session("p-1"), 0, 1), HOUR)
            .unwrap();
    }
    store.delete_store("gone").unwrap();
    assert_eq!(store.stores().unwrap(), ["kept"]);
    assert_eq!(store.products("gone").unwrap(), []);
    assert_eq!(store.session("gone", "s").unwrap(), None);
    assert_eq!(store.products("kept").unwrap().len(), 2);
    assert!(store.session("kept", "s").unwrap().is_some());
    assert_eq!(
        store.purge_expired_sessions(100).unwrap(),
        0,
        "nothing expired, and nothing of the deleted store is left to purge"
    );
}

pub fn access_records_are_kept_per_store_and_go_with_the_store(store: &dyn Storage) {
    assert_eq!(store.access("shop").unwrap(), None);
    store
        .put_settings("shop", &StoreSettings::new(mapping()))
        .unwrap();
    store
        .put_settings("other", &StoreSettings::new(mapping()))
        .unwrap();
    let access = StoreAccess {
        secret_key_hash: Some("ab".repeat(32)),
        publishable_key_hash: Some("cd".repeat(32)),
        allowed_origins: vec!["https://shop.example".into(), "http://localhost:*".into()],
        public: false,
    };
    store.put_access("shop", &access).unwrap();
    assert_eq!(store.access("shop").unwrap(), Some(access.clone()));
    assert_eq!(
        store.access("other").unwrap(),
        None,
        "records are per store"
    );
    let rotated = StoreAccess {
        secret_key_hash: Some("ef".repeat(32)),
        ..access
    };
    store.put_access("shop", &rotated).unwrap();
    assert_eq!(
        store.access("shop").unwrap(),
        Some(rotated),
        "a put replaces"
    );
    store.put_access("other", &StoreAccess::default()).unwrap();
    store.delete_store("shop").unwrap();
    assert_eq!(
        store.access("shop").unwrap(),
        None,
        "deleted with its store"
    );
    assert_eq!(store.access("other").unwrap(), Some(StoreAccess::default()));
}

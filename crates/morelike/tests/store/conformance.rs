//! Checks every storage backend must pass, written once against the trait.

use std::collections::BTreeMap;
use std::time::Duration;

use morelike::store::{Storage, StoreAccess, StoreSettings};
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
        shown: vec![seed.into()],
        round: 0,
        k: 8,
        filters: Default::default(),
    }
}

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

pub fn sessions_round_trip_and_expire(store: &dyn Storage) {
    let s = session("p-1");
    store
        .put_session("shop", "s1", &s, Duration::from_secs(3600))
        .unwrap();
    assert_eq!(store.session("shop", "s1").unwrap(), Some(s.clone()));
    assert_eq!(
        store.session("other", "s1").unwrap(),
        None,
        "sessions belong to one store"
    );
    assert_eq!(store.session("shop", "s2").unwrap(), None);
    store
        .put_session("shop", "old", &s, Duration::ZERO)
        .unwrap();
    assert_eq!(
        store.session("shop", "old").unwrap(),
        None,
        "an expired session is gone"
    );
}

pub fn deleting_a_store_leaves_other_stores_intact(store: &dyn Storage) {
    for name in ["gone", "kept"] {
        store
            .put_settings(name, &StoreSettings::new(mapping()))
            .unwrap();
        store.put_products(name, &products()).unwrap();
        store
            .put_session(name, "s", &session("p-1"), Duration::from_secs(60))
            .unwrap();
    }
    store.delete_store("gone").unwrap();
    assert_eq!(store.stores().unwrap(), ["kept"]);
    assert_eq!(store.products("gone").unwrap(), []);
    assert_eq!(store.session("gone", "s").unwrap(), None);
    assert_eq!(store.products("kept").unwrap().len(), 2);
    assert!(store.session("kept", "s").unwrap().is_some());
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

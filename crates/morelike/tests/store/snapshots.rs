//! Index snapshots beside the embedded store: a store loads from its
//! snapshot with the same pages as a build, and a missing, corrupt,
//! truncated or stale snapshot is detected, logged and rebuilt. Runs on a
//! generated catalog large enough for the snapshot path to matter.

use std::cell::RefCell;
use std::io::Write;
use std::sync::Once;

use morelike::catalogs;
use morelike::snapshots::Snapshots;
use morelike::store::{Embedded, Storage, StoreSettings};
use morelike_core::index::Filters;
use morelike_core::{Catalog, Mapping, Product};

/// Products in the generated store (kept so the debug suite stays quick).
const PRODUCTS: usize = 100_000;

fn mapping() -> Mapping {
    Mapping::from_toml(
        r#"
        [fields]
        id = "id"
        name = "name"
        text = ["name"]
        categorical = ["gender", "type", "colour"]
        numeric = ["year"]
        "#,
    )
    .unwrap()
}

fn product(i: usize) -> Product {
    const COLOURS: [&str; 9] = [
        "Black",
        "White",
        "Navy Blue",
        "Red",
        "Green",
        "Grey",
        "Pink",
        "Brown",
        "Beige",
    ];
    const TYPES: [&str; 7] = [
        "Shirts", "Tshirts", "Jeans", "Dresses", "Shoes", "Watches", "Bags",
    ];
    const BRANDS: [&str; 5] = ["Puma", "Nike", "Roadster", "Fossil", "Baggit"];
    let (colour, kind) = (COLOURS[i % 9], TYPES[(i / 9) % 7]);
    let gender = if i.is_multiple_of(3) { "Women" } else { "Men" };
    let mut p = Product::new(
        format!("p{i}"),
        format!("{} {gender} {colour} {kind} {}", BRANDS[i % 5], i % 101),
    )
    .with_attribute("gender", gender)
    .with_attribute("type", kind)
    .with_attribute("colour", colour)
    .with_number("year", 2008.0 + (i % 11) as f64);
    p.price = Some(5.0 + (i % 997) as f64);
    p
}

/// A data directory holding one store, "big", of generated products.
fn big_store() -> (tempfile::TempDir, Embedded) {
    let dir = tempfile::tempdir().unwrap();
    let storage = Embedded::open(dir.path()).unwrap();
    storage
        .put_settings("big", &StoreSettings::new(mapping()))
        .unwrap();
    let products: Vec<Product> = (0..PRODUCTS).map(product).collect();
    storage.put_products("big", &products).unwrap();
    (dir, storage)
}

/// What the log says on this thread while `f` runs.
///
/// One global subscriber writes each thread's lines to that thread's buffer:
/// a scoped subscriber (`with_default`) is not enough, because tracing caches
/// a callsite's interest across threads and a line logged under one can go
/// missing while other tests run (seen once on a clean clone).
fn logged<T>(f: impl FnOnce() -> T) -> (T, String) {
    thread_local! {
        static CAPTURE: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    struct ThisThread;
    impl Write for ThisThread {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            CAPTURE.with(|c| c.borrow_mut().extend_from_slice(buf));
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    static GLOBAL: Once = Once::new();
    GLOBAL.call_once(|| {
        tracing_subscriber::fmt()
            .with_writer(|| ThisThread)
            .with_ansi(false)
            .init()
    });
    CAPTURE.with(|c| c.borrow_mut().clear());
    let out = f();
    let text = CAPTURE.with(|c| String::from_utf8(c.take()).unwrap());
    (out, text)
}

/// The line of a log that says `what`.
fn line_of<'l>(log: &'l str, what: &str) -> &'l str {
    log.lines().find(|l| l.contains(what)).unwrap_or("")
}

fn pages(catalog: &Catalog) -> Vec<Vec<(String, f32)>> {
    ["p0", "p1", "p777", "p31337", &format!("p{}", PRODUCTS - 1)]
        .iter()
        .map(|id| {
            catalog
                .similar(id, 8, &Filters::default())
                .unwrap()
                .iter()
                .map(|h| (catalog.index().id(h.row).to_owned(), h.score))
                .collect()
        })
        .collect()
}

fn snapshot_path(dir: &tempfile::TempDir) -> std::path::PathBuf {
    Snapshots::new(dir.path().join("snapshots")).path("big")
}

#[test]
fn a_store_loads_from_its_snapshot_with_the_pages_of_a_build() {
    let (dir, storage) = big_store();
    let (built, log) = logged(|| catalogs::load(&storage, "big").unwrap());
    assert!(log.contains("no index snapshot"), "{log}");
    // The file, not the log line: tracing caches a callsite's interest
    // across threads, so a line logged under a test's scoped subscriber can
    // go missing while other tests run (seen once on a clean clone).
    assert!(snapshot_path(&dir).is_file(), "no snapshot written: {log}");
    let (read, log) = logged(|| catalogs::load(&storage, "big").unwrap());
    assert!(!log.contains("building the index"), "{log}");
    assert_eq!(read.len(), PRODUCTS);
    assert_eq!(pages(&read), pages(&built));
    assert_eq!(
        read.get("p31337").unwrap().to_product(),
        product(31337),
        "a card read from the snapshot is the product stored"
    );
}

#[test]
fn a_corrupt_truncated_or_stale_snapshot_is_logged_and_rebuilt() {
    let (dir, storage) = big_store();
    let built = catalogs::load(&storage, "big").unwrap();
    let expected = pages(&built);
    drop(built);
    let path = snapshot_path(&dir);
    let whole = std::fs::read(&path).unwrap();

    let mut corrupt = whole.clone();
    let at = corrupt.len() / 3;
    corrupt[at] ^= 0x10;
    std::fs::write(&path, &corrupt).unwrap();
    let (catalog, log) = logged(|| catalogs::load(&storage, "big").unwrap());
    assert!(log.contains("snapshot corrupt: checksum"), "{log}");
    assert!(
        line_of(&log, "snapshot corrupt: checksum").contains("WARN"),
        "damage is worth an operator's look: {log}"
    );
    assert!(log.contains("index snapshot written"), "{log}");
    assert_eq!(pages(&catalog), expected);
    let (_, log) = logged(|| catalogs::load(&storage, "big").unwrap());
    assert!(
        !log.contains("building the index"),
        "rebuilt and written whole again: {log}"
    );

    std::fs::write(&path, &whole[..whole.len() - 1000]).unwrap();
    let (catalog, log) = logged(|| catalogs::load(&storage, "big").unwrap());
    assert!(log.contains("snapshot truncated"), "{log}");
    assert_eq!(pages(&catalog), expected);

    let mut changed = product(31337);
    changed.name = "Completely new name".into();
    storage.put_products("big", &[changed.clone()]).unwrap();
    let (catalog, log) = logged(|| catalogs::load(&storage, "big").unwrap());
    assert!(log.contains("snapshot is stale"), "{log}");
    // A newer change is what ordinary operations leave: said at info.
    let stale = line_of(&log, "snapshot is stale");
    assert!(
        stale.contains("INFO") && stale.contains("predates the last change: rebuilding"),
        "{log}"
    );
    assert!(!log.contains("WARN"), "{log}");
    assert_eq!(catalog.get("p31337").unwrap().to_product(), changed);
    let (again, log) = logged(|| catalogs::load(&storage, "big").unwrap());
    assert!(!log.contains("building the index"), "{log}");
    assert_eq!(again.get("p31337").unwrap().name(), "Completely new name");
}

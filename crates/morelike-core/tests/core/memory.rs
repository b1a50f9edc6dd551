//! What a catalog really holds on the heap, measured by a counting
//! allocator, against what it says it holds ([`Catalog::heap_bytes`]): the
//! number a server's memory budget is made of.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use morelike_core::{Catalog, Precision};

use crate::helpers::fashion;

/// The system allocator, counting on each thread the bytes that thread
/// allocated less those it freed (tests run on several threads at once:
/// each counts only its own).
struct Counting;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
}

fn count(bytes: isize) {
    // A thread being torn down no longer has its count: not counted.
    let _ = HELD.try_with(|held| held.set(held.get() + bytes));
}

#[allow(unsafe_code)]
// SAFETY: every call is passed on unchanged to the system allocator; the
// count beside it allocates nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// What a catalog holds on the heap: the bytes this thread frees when it
/// drops it (a build allocates on several threads, but the catalog is
/// freed here, whole), after its estimate is taken.
fn freed_by_drop(catalog: Catalog) -> (usize, usize) {
    let said = catalog.heap_bytes();
    let before = HELD.with(Cell::get);
    drop(catalog);
    let after = HELD.with(Cell::get);
    (said, (before - after).max(0) as usize)
}

/// The estimate counts at least what the catalog holds and at most a
/// quarter more (the allocator's share of each allocation, counted by the
/// estimate and not by the measure, is a few percent).
fn check(what: &str, catalog: Catalog) {
    let products = catalog.len();
    let (said, held) = freed_by_drop(catalog);
    let ratio = said as f64 / held as f64;
    eprintln!(
        "{what}: {products} products, {held} B measured ({} B a product), {said} B said ({ratio:.2}×)",
        held / products.max(1),
    );
    assert!(
        (1.0..=1.25).contains(&ratio),
        "{what}: {said} B said for {held} B held ({ratio:.2}×)"
    );
}

#[test]
fn a_catalog_says_what_it_holds_on_the_heap_built_or_read_from_its_snapshot() {
    let f = fashion();
    for n in [1_000, 5_000, 10_000] {
        let products = &f.products[..n];
        let mapping = f.catalog.mapping().clone();
        let built = Catalog::build(mapping.clone(), products.iter().cloned(), Precision::I8);
        let bytes = built.to_snapshot(1);
        check("built", built);
        check("read", Catalog::from_snapshot(mapping, &bytes, 1).unwrap());
    }
    // Clustered (as a store of 65,536 products or more is) and at f32.
    let products = &f.products[..10_000];
    let mut clustered = Catalog::build(
        f.catalog.mapping().clone(),
        products.iter().cloned(),
        Precision::F32,
    );
    clustered.cluster();
    check("clustered at f32", clustered);
}

//! One source of truth: no page and no simulated result depends on the
//! order a catalog was loaded in. The server loads products in id order,
//! `morelike eval` in file order; exact ties are broken by a stable hash of
//! the product id and draws index products in id order, so both serve the
//! same pages.

use morelike_core::eval::{Protocol, Scenario, Simulator};
use morelike_core::{strategy, Catalog, Precision, Product};

use crate::helpers::fashion;

fn rebuilt(order: impl Fn(&mut Vec<Product>)) -> Catalog {
    let f = fashion();
    let mut products = f.products.clone();
    order(&mut products);
    Catalog::build(f.catalog.mapping().clone(), products, Precision::I8)
}

#[test]
fn every_strategy_serves_the_same_sessions_whatever_the_row_order() {
    let file_order = &fashion().catalog;
    let by_id = rebuilt(|p| p.sort_by(|a, b| a.id.cmp(&b.id)));
    let reversed = rebuilt(|p| p.reverse());
    let protocol = Protocol {
        seed: 11,
        ..Protocol::default()
    };
    let sims: Vec<Simulator> = [file_order, &by_id, &reversed]
        .into_iter()
        .map(|c| Simulator::new(c, protocol).unwrap())
        .collect();
    assert_ne!(
        file_order.index().id(0),
        by_id.index().id(0),
        "the orders differ"
    );
    for s in strategy::all() {
        for scenario in Scenario::ALL {
            for shopper in 0..2 {
                let played: Vec<_> = sims
                    .iter()
                    .map(|sim| {
                        let (start, outcome, turns) =
                            sim.transcript(s.as_ref(), scenario, shopper).unwrap();
                        let seed = sim.truth().class(start.seed);
                        (seed, outcome, turns)
                    })
                    .collect();
                for other in &played[1..] {
                    assert!(
                        played[0].2 == other.2 && played[0].1 == other.1,
                        "{} {} shopper {shopper}: {:?}\nagainst {:?}",
                        s.name(),
                        scenario.name(),
                        played[0].2,
                        other.2
                    );
                }
            }
        }
    }
}

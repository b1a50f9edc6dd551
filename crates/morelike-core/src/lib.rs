//! The pure core of morelike: products, views, vectors, the index, scoring,
//! strategies and sessions as values. No async, no network, no database.
#![warn(missing_docs)]

pub mod catalog;
pub mod eval;
pub mod explain;
mod hash;
pub mod heap;
pub mod id_list;
pub mod import;
pub mod index;
pub mod mapping;
pub mod product;
pub mod session;
pub mod strategy;
mod threads;
pub mod views;

pub use catalog::{Card, Catalog, CatalogBuilder, CatalogError, Change};
pub use explain::Explanation;
pub use id_list::IdList;
pub use index::{Filters, Precision};
pub use mapping::{Format, Mapping};
pub use product::{Described, Product, ProductId};
pub use session::{Page, Session, SessionError, Vote};
pub use strategy::Strategy;

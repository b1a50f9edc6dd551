//! Whether a new mapping fits a store's stored products: a view that reads
//! a column as numbers when the products hold words there (or the other way
//! round) would be empty for every product, so the mapping is refused with
//! the view, the column and a value found in it. A column no product has
//! yet is no misfit: its values may come with the next upload.

use morelike_core::views::ViewKind;
use morelike_core::{Mapping, Product};

use crate::store::{Storage, StorageError};

/// What one view found in one of its columns over the stored products.
struct Seen {
    /// Some product has a value of the kind the view reads.
    fits: bool,
    /// A value of another kind, when one was found.
    other: Option<String>,
}

/// Why `mapping` does not fit the store's products (`Ok(Some(reason))`),
/// read from storage; `Ok(None)` when it fits.
pub fn misfit(
    storage: &dyn Storage,
    store: &str,
    mapping: &Mapping,
) -> Result<Option<String>, StorageError> {
    let columns: Vec<(usize, &str)> = mapping
        .views
        .iter()
        .enumerate()
        .flat_map(|(v, view)| view.fields.iter().map(move |f| (v, f.as_str())))
        .collect();
    let mut seen: Vec<Seen> = columns
        .iter()
        .map(|_| Seen {
            fits: false,
            other: None,
        })
        .collect();
    let mut products = 0usize;
    storage.for_each_product(store, &mut |p| {
        products += 1;
        for (s, &(v, field)) in seen.iter_mut().zip(&columns) {
            if s.fits {
                continue;
            }
            let (fits, other) = look(&p, mapping, &mapping.views[v].kind, field);
            s.fits = fits;
            if s.other.is_none() {
                s.other = other;
            }
        }
    })?;
    for (v, view) in mapping.views.iter().enumerate() {
        let of_view = || {
            columns
                .iter()
                .zip(&seen)
                .filter(move |((at, _), _)| *at == v)
        };
        if of_view().any(|(_, s)| s.fits) {
            continue;
        }
        let Some(((_, field), Some(example))) = of_view()
            .map(|(c, s)| (c, s.other.as_ref()))
            .find(|(_, o)| o.is_some())
        else {
            continue;
        };
        let (kind, a_value) = match view.kind {
            ViewKind::Numeric => ("numeric", "a number"),
            ViewKind::Categorical => ("categorical", "a word"),
            ViewKind::Text => ("text", "any text"),
            ViewKind::Vector => ("a vector", "a vector"),
        };
        return Ok(Some(format!(
            "view '{}' is {kind}, but none of the {} stored products has {a_value} in column '{field}' \
             (e.g. '{example}'); nothing was changed: read the column as what it holds, or leave it out of the view",
            view.name,
            thousands(products),
        )));
    }
    Ok(None)
}

/// Whether a product has a value of the view's kind in a column, and a
/// value of another kind it holds there instead.
fn look(p: &Product, mapping: &Mapping, kind: &ViewKind, field: &str) -> (bool, Option<String>) {
    let f = &mapping.fields;
    let word = || {
        if f.name == field {
            Some(p.name.clone())
        } else {
            p.attributes.get(field).cloned()
        }
    };
    let number = || {
        if f.price.as_deref() == Some(field) {
            p.price.map(|n| n.to_string())
        } else {
            p.numbers.get(field).map(|n| n.to_string())
        }
    };
    let vector = || p.vectors.get(field).map(|v| format!("{} numbers", v.len()));
    match kind {
        ViewKind::Numeric => (number().is_some(), word().or_else(vector)),
        ViewKind::Categorical | ViewKind::Text => (word().is_some(), number().or_else(vector)),
        ViewKind::Vector => (vector().is_some(), word().or_else(number)),
    }
}

/// 2004 → "2,004".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_separated() {
        assert_eq!(super::thousands(2004), "2,004");
        assert_eq!(super::thousands(44_446), "44,446");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1_000_000), "1,000,000");
    }
}

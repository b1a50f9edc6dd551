//! A point in a store's product space: one product's vector, or a weighted
//! mix of several (a query). Dense views are numbers; categorical views are
//! sparse one-hot weights per field.

use crate::views::{normalize, Layout, ViewKind, MISSING};

/// A product or a mix of products, view by view.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// The dense part, laid out like the index's rows.
    pub dense: Vec<f32>,
    /// Per categorical field: (code, weight) pairs in one-hot space.
    pub cats: Vec<Vec<(u32, f32)>>,
}

impl Point {
    /// The zero point of a layout.
    pub fn zero(layout: &Layout) -> Self {
        Point {
            dense: vec![0.0; layout.dense_dim],
            cats: vec![Vec::new(); layout.fields.len()],
        }
    }

    /// A product's point from its dense part and its codes.
    pub fn from_parts(layout: &Layout, dense: Vec<f32>, codes: &[u32]) -> Self {
        let cats = codes
            .iter()
            .enumerate()
            .map(|(f, &code)| {
                if code == MISSING {
                    Vec::new()
                } else {
                    let view = layout.fields[f].1;
                    vec![(code, layout.field_share(view).sqrt())]
                }
            })
            .collect();
        Point { dense, cats }
    }

    /// Adds `coef` times another point.
    pub fn add_scaled(&mut self, other: &Point, coef: f32) {
        for (a, b) in self.dense.iter_mut().zip(&other.dense) {
            *a += coef * b;
        }
        for (mine, theirs) in self.cats.iter_mut().zip(&other.cats) {
            for &(code, w) in theirs {
                match mine.iter_mut().find(|(c, _)| *c == code) {
                    Some((_, x)) => *x += coef * w,
                    None => mine.push((code, coef * w)),
                }
            }
        }
    }

    /// Adds `coef` times another point, view by view (`coefs[v]` for view v).
    pub fn add_scaled_by_view(&mut self, layout: &Layout, other: &Point, coefs: &[f32]) {
        for (view, &coef) in layout.views.iter().zip(coefs) {
            for i in view.dense.clone() {
                self.dense[i] += coef * other.dense[i];
            }
            for f in view.fields.clone() {
                for &(code, w) in &other.cats[f] {
                    match self.cats[f].iter_mut().find(|(c, _)| *c == code) {
                        Some((_, x)) => *x += coef * w,
                        None => self.cats[f].push((code, coef * w)),
                    }
                }
            }
        }
    }

    /// The length of one view's part.
    pub fn view_norm(&self, layout: &Layout, view: usize) -> f32 {
        let v = &layout.views[view];
        let dense: f32 = self.dense[v.dense.clone()].iter().map(|x| x * x).sum();
        let cats: f32 = self.cats[v.fields.clone()]
            .iter()
            .flatten()
            .map(|(_, w)| w * w)
            .sum();
        (dense + cats).sqrt()
    }

    /// Scales every view's part to unit length (zero parts stay zero).
    pub fn normalize_views(&mut self, layout: &Layout) {
        for (v, view) in layout.views.iter().enumerate() {
            let norm = self.view_norm(layout, v);
            if norm <= 1e-12 {
                continue;
            }
            match view.kind {
                ViewKind::Categorical => {
                    for f in view.fields.clone() {
                        self.cats[f].iter_mut().for_each(|(_, w)| *w /= norm);
                    }
                }
                _ => normalize(&mut self.dense[view.dense.clone()]),
            }
        }
    }

    /// The cosine-like similarity of two points in one view (the plain dot
    /// product of their parts; a cosine when both parts are unit length).
    pub fn view_dot(&self, other: &Point, layout: &Layout, view: usize) -> f32 {
        let v = &layout.views[view];
        let dense: f32 = self.dense[v.dense.clone()]
            .iter()
            .zip(&other.dense[v.dense.clone()])
            .map(|(a, b)| a * b)
            .sum();
        let cats: f32 = v
            .fields
            .clone()
            .map(|f| {
                self.cats[f]
                    .iter()
                    .map(|(c, w)| {
                        other.cats[f]
                            .iter()
                            .find(|(d, _)| d == c)
                            .map_or(0.0, |(_, x)| w * x)
                    })
                    .sum::<f32>()
            })
            .sum();
        dense + cats
    }

    /// The weighted similarity of two points: Σ weight × view dot.
    pub fn dot(&self, other: &Point, layout: &Layout, weights: &[f32]) -> f32 {
        (0..layout.views.len())
            .map(|v| weights[v] * self.view_dot(other, layout, v))
            .sum()
    }
}

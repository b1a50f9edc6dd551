//! What an index holds on the heap, counted from the capacities of its
//! columns and maps ([`crate::heap`]).

use super::clusters::Clusters;
use super::{Coarse, Dense, Index, Kinds};
use crate::heap::{block, map, vec, vecs};

impl Index {
    /// Bytes held on the heap: rows (vectors, codes, ids, keys), the maps
    /// by id and by kind, the clusters and the fitted encoder.
    pub fn heap_bytes(&self) -> usize {
        let dense = match &self.dense {
            Dense::F32(data) => vec(data),
            Dense::I8 { data, scales } => vec(data) + vec(scales),
        };
        let coarse = self
            .coarse
            .as_ref()
            .map_or(0, |Coarse { data, scales }| vec(data) + vec(scales));
        dense
            + coarse
            + vec(&self.codes)
            + vecs(&self.value_counts)
            + self.ids.heap_bytes()
            + vec(&self.keys)
            + vec(&self.names)
            + self.live.heap_bytes()
            + self.kinds.heap_bytes()
            + vec(&self.free)
            + self.in_stock.heap_bytes()
            + vec(&self.prices)
            + vec(&self.max_norms)
            + self.clusters.as_ref().map_or(0, Clusters::heap_bytes)
            + self.encoder.heap_bytes()
    }
}

impl Index {
    /// Gives back the spare capacity of every column and map (after a
    /// build, or a read from a snapshot, whose decoder grows large columns
    /// by doubling).
    pub(crate) fn shrink(&mut self) {
        match &mut self.dense {
            Dense::F32(data) => data.shrink_to_fit(),
            Dense::I8 { data, .. } => data.shrink_to_fit(),
        }
        if let Some(coarse) = &mut self.coarse {
            coarse.data.shrink_to_fit();
        }
        self.codes.shrink_to_fit();
        self.value_counts.iter_mut().for_each(Vec::shrink_to_fit);
        self.ids.shrink();
        self.keys.shrink_to_fit();
        self.names.shrink_to_fit();
        self.live.shrink();
        self.kinds.shrink();
        self.free.shrink_to_fit();
        self.in_stock.shrink();
        self.prices.shrink_to_fit();
        if let Some(clusters) = &mut self.clusters {
            clusters.shrink();
        }
    }
}

impl Kinds {
    fn shrink(&mut self) {
        self.ids.shrink_to_fit();
        self.codes.shrink_to_fit();
        self.columns.iter_mut().for_each(Vec::shrink_to_fit);
        self.rows.shrink_to_fit();
        self.rows.iter_mut().for_each(Vec::shrink_to_fit);
        self.of.shrink_to_fit();
        self.sizes.shrink_to_fit();
    }

    fn heap_bytes(&self) -> usize {
        let keys: usize = self.ids.keys().map(|k| block(k.len() * 4)).sum();
        map(&self.ids)
            + keys
            + vec(&self.codes)
            + vecs(&self.columns)
            + vecs(&self.rows)
            + vec(&self.of)
            + vec(&self.sizes)
    }
}

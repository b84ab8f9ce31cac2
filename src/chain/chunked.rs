//! A growable array kept in fixed-size chunks, for per-block tables of long runs.
//!
//! A `Vec` doubles its capacity when full: a table of a million 120-byte block records then
//! sits in a 2^20-slot allocation, up to twice what it holds, and each doubling asks the
//! allocator for one block twice the size of the last. [`ChunkedVec`] appends whole chunks of
//! [`ChunkedVec::CHUNK`] slots instead, so a table never holds more than one partly filled
//! chunk beyond its contents and never moves what it already holds. Indexing costs one
//! shift and one mask more than a `Vec`.

use std::ops::{Index, IndexMut};

/// A growable array in chunks of [`ChunkedVec::CHUNK`] elements (see the module docs).
#[derive(Clone, Debug)]
pub struct ChunkedVec<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for ChunkedVec<T> {
    fn default() -> ChunkedVec<T> {
        ChunkedVec { chunks: Vec::new(), len: 0 }
    }
}

impl<T> ChunkedVec<T> {
    /// log2 of [`ChunkedVec::CHUNK`].
    const CHUNK_BITS: u32 = 14;

    /// Elements per chunk: 16,384 (under 2 MiB for a 120-byte record).
    pub const CHUNK: usize = 1 << Self::CHUNK_BITS;

    /// Creates an empty array (no chunk allocated).
    pub fn new() -> ChunkedVec<T> {
        ChunkedVec::default()
    }

    /// Returns the number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Returns true if there is no element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `value`, starting a new chunk when the last one is full.
    pub fn push(&mut self, value: T) {
        if self.len.is_multiple_of(Self::CHUNK) {
            self.chunks.push(Vec::with_capacity(Self::CHUNK));
        }
        self.chunks.last_mut().expect("a chunk with room was just ensured").push(value);
        self.len += 1;
    }

    /// Returns the element at `index`, or `None` past the end.
    pub fn get(&self, index: usize) -> Option<&T> {
        self.chunks.get(index >> Self::CHUNK_BITS)?.get(index & (Self::CHUNK - 1))
    }

    /// Returns the element at `index` for change, or `None` past the end.
    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.chunks.get_mut(index >> Self::CHUNK_BITS)?.get_mut(index & (Self::CHUNK - 1))
    }

    /// Returns the elements in index order.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }

    /// Returns the slots allocated (elements plus the free room of the last chunk).
    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.chunks.len() * Self::CHUNK
    }
}

impl<T> Index<usize> for ChunkedVec<T> {
    type Output = T;

    /// # Panics
    /// Panics if `index` is past the end.
    fn index(&self, index: usize) -> &T {
        self.get(index).expect("index within the chunked array")
    }
}

impl<T> IndexMut<usize> for ChunkedVec<T> {
    /// # Panics
    /// Panics if `index` is past the end.
    fn index_mut(&mut self, index: usize) -> &mut T {
        self.get_mut(index).expect("index within the chunked array")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_vec_across_chunk_boundaries() {
        let n = 2 * ChunkedVec::<u32>::CHUNK + 5;
        let mut chunked = ChunkedVec::new();
        let mut plain = Vec::new();
        assert!(chunked.is_empty() && chunked.get(0).is_none());
        for i in 0..n as u32 {
            chunked.push(i.wrapping_mul(2_654_435_761));
            plain.push(i.wrapping_mul(2_654_435_761));
        }
        assert_eq!(chunked.len(), n);
        assert!(chunked.iter().eq(plain.iter()));
        for i in [0, ChunkedVec::<u32>::CHUNK - 1, ChunkedVec::<u32>::CHUNK, n - 1] {
            assert_eq!(chunked[i], plain[i]);
        }
        assert_eq!(chunked.get(n), None);
        chunked[ChunkedVec::<u32>::CHUNK] = 7;
        assert_eq!(chunked.get(ChunkedVec::<u32>::CHUNK), Some(&7));
        // Never more than one partly filled chunk of room.
        assert_eq!(chunked.capacity(), 3 * ChunkedVec::<u32>::CHUNK);
    }
}

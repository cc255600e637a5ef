//! A bounded list of borrowed octet strings, for the secondaries and FEC entries of one
//! datagram.

use super::{MAX_FEC_ENTRIES, MAX_SECONDARIES};
use std::fmt;

/// Capacity of a [`SliceList`]: the larger of the two bounds it serves.
const LIST_CAPACITY: usize = if MAX_SECONDARIES > MAX_FEC_ENTRIES {
    MAX_SECONDARIES
} else {
    MAX_FEC_ENTRIES
};

/// A bounded list of borrowed octet strings: the secondary IFP packets or the FEC entries
/// of one datagram, held without allocation.
#[derive(Clone, Copy)]
pub struct SliceList<'a> {
    items: [&'a [u8]; LIST_CAPACITY],
    len: usize,
}

impl<'a> SliceList<'a> {
    /// An empty list.
    pub const fn new() -> Self {
        SliceList {
            items: [&[]; LIST_CAPACITY],
            len: 0,
        }
    }

    /// A list of `items`, or `None` when there are more than it can hold (the larger of
    /// [`MAX_SECONDARIES`] and [`MAX_FEC_ENTRIES`]).
    pub fn from_slices(items: &[&'a [u8]]) -> Option<Self> {
        let mut list = Self::new();
        for &item in items {
            if !list.push(item) {
                return None;
            }
        }
        Some(list)
    }

    /// Appends `item`; false (and nothing appended) when the list is full.
    pub fn push(&mut self, item: &'a [u8]) -> bool {
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = item;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// Removes and returns the last item.
    pub fn pop(&mut self) -> Option<&'a [u8]> {
        self.len = self.len.checked_sub(1)?;
        let item = self.items[self.len];
        self.items[self.len] = &[];
        Some(item)
    }

    /// The items, in order.
    pub fn as_slice(&self) -> &[&'a [u8]] {
        &self.items[..self.len]
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `i`th item.
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        self.as_slice().get(i).copied()
    }

    /// The items, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &'a [u8]> + ExactSizeIterator + '_ {
        self.as_slice().iter().copied()
    }
}

impl Default for SliceList<'_> {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for SliceList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for SliceList<'_> {}

impl fmt::Debug for SliceList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_list_is_bounded() {
        let items = [&[1u8][..]; 17];
        assert!(SliceList::from_slices(&items[..16]).is_some());
        assert!(SliceList::from_slices(&items).is_none());
        let mut l = SliceList::from_slices(&[&[1], &[2]]).unwrap();
        assert_eq!(l.pop(), Some(&[2][..]));
        assert_eq!(l, SliceList::from_slices(&[&[1]]).unwrap());
        assert_eq!(l.pop(), Some(&[1][..]));
        assert_eq!(l.pop(), None);
        assert!(l.is_empty());
    }
}

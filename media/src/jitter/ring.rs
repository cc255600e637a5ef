//! The frame store of the jitter buffer: a fixed ring of slots indexed by frame number.

/// One slot: which frame it holds and how long its payload is.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    ext: i64,
    len: usize,
    filled: bool,
}

/// A ring of `capacity` frames of at most `max_payload` octets, allocated once.
#[derive(Clone, Debug)]
pub(super) struct Ring {
    slots: Box<[Slot]>,
    data: Box<[u8]>,
    max_payload: usize,
    /// Samples per frame.
    frame: i64,
    /// Extended timestamp of a frame boundary; slots count frames from it.
    origin: i64,
}

impl Ring {
    pub(super) fn new(capacity: usize, max_payload: usize, frame: i64) -> Self {
        Ring {
            slots: vec![Slot::default(); capacity.max(1)].into_boxed_slice(),
            data: vec![0; capacity.max(1) * max_payload].into_boxed_slice(),
            max_payload,
            frame: frame.max(1),
            origin: 0,
        }
    }

    pub(super) fn capacity(&self) -> usize {
        self.slots.len()
    }

    pub(super) fn clear(&mut self) {
        for s in self.slots.iter_mut() {
            s.filled = false;
        }
    }

    /// Moves the frame grid so that `ext` lies on a frame boundary (a talkspurt whose
    /// timestamp is not a whole number of frames after the previous one).
    pub(super) fn realign(&mut self, ext: i64) {
        if (ext - self.origin).rem_euclid(self.frame) != 0 {
            self.clear();
            self.origin = ext;
        }
    }

    fn slot_of(&self, ext: i64) -> usize {
        let k = (ext - self.origin).div_euclid(self.frame);
        k.rem_euclid(self.slots.len() as i64) as usize
    }

    /// Stores a frame; false if that frame is already stored.
    pub(super) fn insert(&mut self, ext: i64, payload: &[u8]) -> bool {
        let i = self.slot_of(ext);
        let slot = &mut self.slots[i];
        if slot.filled && slot.ext == ext {
            return false;
        }
        *slot = Slot {
            ext,
            len: payload.len(),
            filled: true,
        };
        let o = i * self.max_payload;
        self.data[o..o + payload.len()].copy_from_slice(payload);
        true
    }

    /// Removes the frame at `ext` if stored, returning its slot for [`Ring::payload`].
    pub(super) fn take(&mut self, ext: i64) -> Option<usize> {
        let i = self.slot_of(ext);
        let slot = &mut self.slots[i];
        if slot.filled && slot.ext == ext {
            slot.filled = false;
            Some(i)
        } else {
            None
        }
    }

    /// The payload last stored in slot `i`.
    pub(super) fn payload(&self, i: usize) -> &[u8] {
        let o = i * self.max_payload;
        &self.data[o..o + self.slots[i].len]
    }

    /// Frames stored at or after `ext`.
    pub(super) fn count_from(&self, ext: i64) -> usize {
        self.slots
            .iter()
            .filter(|s| s.filled && s.ext >= ext)
            .count()
    }
}

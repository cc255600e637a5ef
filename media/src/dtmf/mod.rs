//! DTMF (dual-tone multi-frequency) signalling: the digit set of ITU-T Q.23, a generator
//! and a Q.24-conformant detector for 8 kHz linear audio.

pub mod detect;
pub mod generate;

pub use detect::{DtmfDetector, DtmfDetectorConfig, DtmfEvent};
pub use generate::{DtmfGenerator, DtmfParams};

/// Low-group (row) frequencies in Hz, ITU-T Q.23 Table 1.
pub const ROW_HZ: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
/// High-group (column) frequencies in Hz, ITU-T Q.23 Table 1.
pub const COL_HZ: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

/// One of the sixteen DTMF signals of ITU-T Q.23.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Digit {
    D0,
    D1,
    D2,
    D3,
    D4,
    D5,
    D6,
    D7,
    D8,
    D9,
    Star,
    Hash,
    A,
    B,
    C,
    D,
}

/// The keypad, row by row (low group) and column by column (high group).
const KEYPAD: [[Digit; 4]; 4] = [
    [Digit::D1, Digit::D2, Digit::D3, Digit::A],
    [Digit::D4, Digit::D5, Digit::D6, Digit::B],
    [Digit::D7, Digit::D8, Digit::D9, Digit::C],
    [Digit::Star, Digit::D0, Digit::Hash, Digit::D],
];

/// A character that is not one of `0-9 * # A-D`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a DTMF digit (expected 0-9, *, #, A-D)")]
pub struct NotADigit(pub char);

impl Digit {
    /// All sixteen digits, in keypad order.
    pub const ALL: [Digit; 16] = [
        Digit::D1,
        Digit::D2,
        Digit::D3,
        Digit::A,
        Digit::D4,
        Digit::D5,
        Digit::D6,
        Digit::B,
        Digit::D7,
        Digit::D8,
        Digit::D9,
        Digit::C,
        Digit::Star,
        Digit::D0,
        Digit::Hash,
        Digit::D,
    ];

    /// The digit at keypad `row` and `col` (both 0..4).
    pub const fn from_row_col(row: usize, col: usize) -> Digit {
        KEYPAD[row & 3][col & 3]
    }

    /// Keypad (row, column) of this digit.
    pub fn row_col(self) -> (usize, usize) {
        let i = Digit::ALL.iter().position(|d| *d == self).unwrap_or(0);
        (i / 4, i % 4)
    }

    /// The (low, high) frequency pair in Hz.
    pub fn frequencies(self) -> (f32, f32) {
        let (r, c) = self.row_col();
        (ROW_HZ[r], COL_HZ[c])
    }

    /// Parses `0-9 * # A-D` (lower case accepted).
    pub fn from_char(c: char) -> Result<Digit, NotADigit> {
        Ok(match c.to_ascii_uppercase() {
            '0' => Digit::D0,
            '1' => Digit::D1,
            '2' => Digit::D2,
            '3' => Digit::D3,
            '4' => Digit::D4,
            '5' => Digit::D5,
            '6' => Digit::D6,
            '7' => Digit::D7,
            '8' => Digit::D8,
            '9' => Digit::D9,
            '*' => Digit::Star,
            '#' => Digit::Hash,
            'A' => Digit::A,
            'B' => Digit::B,
            'C' => Digit::C,
            'D' => Digit::D,
            _ => return Err(NotADigit(c)),
        })
    }

    /// The keypad character.
    pub const fn as_char(self) -> char {
        match self {
            Digit::D0 => '0',
            Digit::D1 => '1',
            Digit::D2 => '2',
            Digit::D3 => '3',
            Digit::D4 => '4',
            Digit::D5 => '5',
            Digit::D6 => '6',
            Digit::D7 => '7',
            Digit::D8 => '8',
            Digit::D9 => '9',
            Digit::Star => '*',
            Digit::Hash => '#',
            Digit::A => 'A',
            Digit::B => 'B',
            Digit::C => 'C',
            Digit::D => 'D',
        }
    }
}

impl core::fmt::Display for Digit {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chars_round_trip_and_keypad_matches_q23() {
        for d in Digit::ALL {
            assert_eq!(Digit::from_char(d.as_char()), Ok(d));
            let (r, c) = d.row_col();
            assert_eq!(Digit::from_row_col(r, c), d);
        }
        assert_eq!(Digit::D5.frequencies(), (770.0, 1336.0));
        assert_eq!(Digit::Hash.frequencies(), (941.0, 1477.0));
        assert_eq!(Digit::from_char('x'), Err(NotADigit('x')));
    }
}

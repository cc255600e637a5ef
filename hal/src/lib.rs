//! The analog side of tipring: line-card model, the serial wire protocol, the serial
//! driver, ALSA audio and the simulated line card.
//!
//! Without the default `std` feature only [`model`] and [`wire`] build (`no_std`, heapless +
//! postcard), so a line-card MCU firmware can reuse the exact message types and codec.
#![cfg_attr(not(feature = "std"), no_std)]

#[cfg(feature = "std")]
pub mod audio;
#[cfg(feature = "std")]
pub mod driver;
#[cfg(feature = "std")]
pub mod link;
pub mod model;
#[cfg(feature = "std")]
pub mod sim;
pub mod wire;

//! The analog side of tipring: line-card model, the serial wire protocol, the serial
//! driver, ALSA audio and the simulated line card.

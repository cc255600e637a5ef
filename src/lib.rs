//! The tipring gateway: analog call control, the media bridge, the simulator's DSP,
//! configuration and the service glue,
//! joining the sip, media and hal crates. The binary (`main.rs`) is the CLI over it.

pub mod bridge;
pub mod call;
mod companding;
pub mod config;
pub mod dialplan;
pub mod gateway;
pub mod ops;
pub mod port;
pub mod service;
pub mod sim_dsp;

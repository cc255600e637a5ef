//! The tipring gateway: analog call control, the media bridge and the simulator's DSP,
//! joining the sip, media and hal crates. The binary (`main.rs`) is the CLI over it.

pub mod bridge;
pub mod call;
pub mod companding;
pub mod sim_dsp;

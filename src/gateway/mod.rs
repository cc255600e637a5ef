//! The gateway at run time: the SIP side of all ports ([`sip_side`]).

pub mod sip_side;

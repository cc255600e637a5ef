//! What tipring's tests share, kept out of the firmware:
//! - a virtual network on virtual time for the sans-IO cores ([`net`]);
//! - the whole-process harnesses: two `tipring run` gateways on simulated line cards
//!   ([`testbed`], [`gateway`]), any child process ([`process`]), Kamailio ([`kamailio`]),
//!   baresip ([`baresip`]), tshark captures ([`tshark`]), an INVITE flood ([`flood`]), a
//!   sipp UAC run and its statistics ([`sipp_run`]) and,
//!   with the `sip` feature, a SIP endpoint on the sip crate's transports ([`endpoint`]);
//! - the one builder of gateway configuration files ([`config`]);
//! - a DNS server serving a test's NAPTR, SRV and A records (dnsmasq, [`dns`]), and a
//!   home network behind a NAT in network namespaces ([`netns`]);
//! - with the `fax` feature, fax machines and the documents they send ([`fax`]);
//! - with the `web` feature, a W3C WebDriver client driving headless Chromium, for the web
//!   admin page ([`webdriver`]);
//! - the measurement of tones carried through a gateway ([`measure`]), and a paced sound
//!   card in memory for bridge tests ([`audio`]).
//!
//! Never a dependency of the firmware: the workspace's packages list it under
//! `[dev-dependencies]` only. Without its `sip` feature it depends on neither the sip crate
//! nor the gateway, and [`net`] is generic over addresses and payloads, so sip's own unit
//! tests use it without two copies of sip's types meeting. What a harness needs of the
//! binary under test (its path, its simulator DSP, its sipp scenarios) it is given.

pub mod audio;
pub mod baresip;
pub mod config;
pub mod dns;
#[cfg(feature = "sip")]
pub mod endpoint;
#[cfg(feature = "fax")]
pub mod fax;
pub mod flood;
pub mod gateway;
pub mod kamailio;
pub mod measure;
pub mod net;
pub mod netns;
pub mod process;
pub mod sipp_run;
pub mod switchboard;
pub mod testbed;
pub mod tshark;
#[cfg(feature = "web")]
pub mod webdriver;

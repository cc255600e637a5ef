//! [`FaxGateway`]: spandsp's T.38 gateway (ITU-T T.38 §6, the "emitting/receiving gateway"):
//! the fax modems (V.21, V.27ter, V.29, V.17) and the T.30 signal analysis of the analog
//! side, turning the line's audio into T.38 IFP packets and IFP packets back into audio.
//! The only `unsafe` of the crate lives here, behind a safe, sans-IO interface.

use crate::ffi;
use std::collections::VecDeque;
use std::ffi::{c_int, c_void};
use std::ptr::NonNull;

/// Samples in one 20 ms frame at 8 kHz.
pub const FRAME_SAMPLES: usize = 160;

/// IFP packets waiting to be framed: beyond this many the newest are dropped (a stalled
/// caller must not let spandsp grow memory).
pub const MAX_QUEUED: usize = 64;

/// How the line's fax is carried as T.38 (the negotiated SDP parameters that concern the
/// gateway itself; T.38 Annex D).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatewayConfig {
    /// T.38 version (0..=3) both ends agreed on.
    pub version: u8,
    /// Highest image data rate, bit/s (`T38MaxBitRate`: 14400, 9600, ...).
    pub max_bit_rate: u32,
    /// Training check (TCF) carried over the network (`transferredTCF`, the rule for UDP,
    /// T.38 §D.2.3) rather than generated locally.
    pub transferred_tcf: bool,
    /// The far end's largest datagram (`T38FaxMaxDatagram`).
    pub max_datagram: u16,
    /// Let the fax machines use error correction mode (T.30 Annex A).
    pub ecm: bool,
}

impl Default for GatewayConfig {
    fn default() -> GatewayConfig {
        GatewayConfig {
            version: 0,
            max_bit_rate: 14_400,
            transferred_tcf: true,
            max_datagram: 400,
            ecm: true,
        }
    }
}

/// One IFP packet spandsp asked to send, and how many times (its repeat count for the
/// packet's category).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ifp {
    pub bytes: Vec<u8>,
    pub count: u8,
}

/// Where spandsp's transmit callback leaves its packets. Boxed so its address stays put
/// while spandsp holds it.
#[derive(Default)]
struct TxQueue {
    packets: VecDeque<Ifp>,
    /// Spare buffers of packets already taken, reused.
    spare: Vec<Vec<u8>>,
    dropped: u64,
}

/// spandsp calls this from inside `t38_gateway_rx`/`t38_core_rx_ifp_packet`, on the
/// caller's thread.
unsafe extern "C" fn on_tx_packet(
    _core: *mut ffi::CoreState,
    user: *mut c_void,
    buf: *const u8,
    len: c_int,
    count: c_int,
) -> c_int {
    // SAFETY: `user` is the gateway's boxed `TxQueue`, alive as long as the spandsp state
    // that calls back; spandsp is only ever called through `&mut FaxGateway`, so nothing
    // else touches the queue meanwhile. `buf` holds `len` bytes for the call's duration.
    let q = unsafe { &mut *(user as *mut TxQueue) };
    let Ok(len) = usize::try_from(len) else {
        return -1;
    };
    if buf.is_null() || q.packets.len() >= MAX_QUEUED {
        q.dropped += 1;
        return -1;
    }
    let bytes = unsafe { std::slice::from_raw_parts(buf, len) };
    let mut b = q.spare.pop().unwrap_or_default();
    b.clear();
    b.extend_from_slice(bytes);
    q.packets.push_back(Ifp {
        bytes: b,
        count: count.clamp(1, 8) as u8,
    });
    0
}

/// What spandsp reports of the transfer.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TransferStats {
    /// Image data rate in use, bit/s.
    pub bit_rate: u32,
    /// Error correction mode in use.
    pub ecm: bool,
    /// Pages passed so far.
    pub pages: u32,
}

/// spandsp could not create its state (out of memory).
#[derive(Debug, thiserror::Error)]
#[error("spandsp's T.38 gateway could not be created")]
pub struct GatewayError;

/// spandsp's T.38 gateway for one call.
pub struct FaxGateway {
    state: NonNull<ffi::GatewayState>,
    core: NonNull<ffi::CoreState>,
    queue: Box<TxQueue>,
}

// SAFETY: spandsp's state has no thread affinity; it is reached only through `&mut self`.
unsafe impl Send for FaxGateway {}

impl FaxGateway {
    /// A gateway set up as `cfg` says.
    pub fn new(cfg: &GatewayConfig) -> Result<FaxGateway, GatewayError> {
        let mut queue = Box::<TxQueue>::default();
        let user = &mut *queue as *mut TxQueue as *mut c_void;
        // SAFETY: spandsp allocates the state (first argument null); the callback and its
        // user pointer stay valid until `t38_gateway_free` in `drop`.
        unsafe {
            let state = NonNull::new(ffi::t38_gateway_init(
                std::ptr::null_mut(),
                on_tx_packet,
                user,
            ))
            .ok_or(GatewayError)?;
            let s = state.as_ptr();
            let Some(core) = NonNull::new(ffi::t38_gateway_get_t38_core_state(s)) else {
                ffi::t38_gateway_free(s);
                return Err(GatewayError);
            };
            ffi::t38_gateway_set_transmit_on_idle(s, 1);
            ffi::t38_gateway_set_supported_modems(s, ffi::MODEMS_V27TER_V29_V17);
            ffi::t38_gateway_set_ecm_capability(s, c_int::from(cfg.ecm));
            ffi::t38_gateway_set_fill_bit_removal(s, 0);
            let c = core.as_ptr();
            ffi::t38_set_t38_version(c, c_int::from(cfg.version.min(3)));
            ffi::t38_set_data_rate_management_method(
                c,
                if cfg.transferred_tcf {
                    ffi::RATE_MANAGEMENT_TRANSFERRED_TCF
                } else {
                    ffi::RATE_MANAGEMENT_LOCAL_TCF
                },
            );
            ffi::t38_set_max_datagram_size(c, c_int::from(cfg.max_datagram));
            ffi::t38_set_fastest_image_data_rate(c, cfg.max_bit_rate.min(14_400) as c_int);
            // Indicators and the ends of messages are sent three times over (T.38 §9.1:
            // UDP may lose them and no later packet would carry them as redundancy);
            // the data between rides in the next packets' redundancy.
            for (category, count) in [
                (ffi::CATEGORY_INDICATOR, 3),
                (ffi::CATEGORY_CONTROL_DATA, 1),
                (ffi::CATEGORY_CONTROL_DATA_END, 3),
                (ffi::CATEGORY_IMAGE_DATA, 1),
                (ffi::CATEGORY_IMAGE_DATA_END, 3),
            ] {
                ffi::t38_set_redundancy_control(c, category, count);
            }
            Ok(FaxGateway { state, core, queue })
        }
    }

    /// One 20 ms frame heard from the line: demodulated, its signals and data queued as
    /// IFP packets ([`FaxGateway::poll_ifp`]).
    pub fn rx(&mut self, frame: &[i16; FRAME_SAMPLES]) {
        let mut f = *frame;
        // SAFETY: the buffer holds FRAME_SAMPLES samples; spandsp reads them only.
        unsafe { ffi::t38_gateway_rx(self.state.as_ptr(), f.as_mut_ptr(), FRAME_SAMPLES as c_int) };
    }

    /// One frame the line did not give (an audio underrun): spandsp fills it in.
    pub fn rx_missing(&mut self) {
        // SAFETY: the state is live.
        unsafe { ffi::t38_gateway_rx_fillin(self.state.as_ptr(), FRAME_SAMPLES as c_int) };
    }

    /// The next 20 ms frame to play to the line: the modems' signal rebuilt from the IFP
    /// packets received (silence when nothing is to be sent).
    pub fn tx(&mut self) -> [i16; FRAME_SAMPLES] {
        let mut f = [0i16; FRAME_SAMPLES];
        // SAFETY: the buffer holds FRAME_SAMPLES samples for spandsp to write.
        let n = unsafe {
            ffi::t38_gateway_tx(self.state.as_ptr(), f.as_mut_ptr(), FRAME_SAMPLES as c_int)
        };
        if let Ok(n) = usize::try_from(n) {
            f[n.min(FRAME_SAMPLES)..].fill(0);
        }
        f
    }

    /// An IFP packet from the network, with its UDPTL sequence number (spandsp notices
    /// gaps and repeats by it).
    pub fn rx_ifp(&mut self, seq: u16, ifp: &[u8]) {
        let Ok(len) = c_int::try_from(ifp.len()) else {
            return;
        };
        // SAFETY: `ifp` holds `len` bytes; spandsp decodes them with its own bounds
        // checks (a malformed packet is logged and dropped by spandsp).
        unsafe { ffi::t38_core_rx_ifp_packet(self.core.as_ptr(), ifp.as_ptr(), len, seq) };
    }

    /// The next IFP packet to send, if any.
    pub fn poll_ifp(&mut self) -> Option<Ifp> {
        self.queue.packets.pop_front()
    }

    /// Gives back a packet's buffer from [`FaxGateway::poll_ifp`] for reuse.
    pub fn recycle(&mut self, ifp: Ifp) {
        if self.queue.spare.len() < MAX_QUEUED {
            self.queue.spare.push(ifp.bytes);
        }
    }

    /// IFP packets dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.queue.dropped
    }

    /// The transfer so far.
    pub fn stats(&self) -> TransferStats {
        let mut t = ffi::TransferStats::default();
        // SAFETY: `t` is a live, writable `t38_stats_t`.
        unsafe { ffi::t38_gateway_get_transfer_statistics(self.state.as_ptr(), &mut t) };
        TransferStats {
            bit_rate: t.bit_rate.max(0) as u32,
            ecm: t.error_correcting_mode != 0,
            pages: t.pages_transferred.max(0) as u32,
        }
    }
}

impl Drop for FaxGateway {
    fn drop(&mut self) {
        // SAFETY: the state came from `t38_gateway_init` and is freed once; the queue it
        // calls back into is dropped after this.
        unsafe { ffi::t38_gateway_free(self.state.as_ptr()) };
    }
}

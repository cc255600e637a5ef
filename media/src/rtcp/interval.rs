//! The RTCP report interval (RFC 3550 §6.2, §6.3.1 and the algorithm of Appendix A.7):
//! 5 % of the session bandwidth for RTCP, a quarter of it for senders when they are few,
//! a minimum of 5 s (halved before the first report, or the "reduced minimum" of
//! 360 / session-kbit/s), and a random factor in [0.5, 1.5) divided by e - 3/2.

use crate::rtp::SplitMix64;

/// Minimum interval, seconds (§6.2, A.7 `RTCP_MIN_TIME`).
const RTCP_MIN_TIME: f64 = 5.0;
/// Share of RTCP bandwidth for senders (A.7 `RTCP_SENDER_BW_FRACTION`).
const SENDER_FRACTION: f64 = 0.25;
/// Share for receivers (A.7 `RTCP_RCVR_BW_FRACTION`).
const RECEIVER_FRACTION: f64 = 0.75;
/// Compensation for timer reconsideration (A.7 `COMPENSATION`: e - 3/2).
const COMPENSATION: f64 = core::f64::consts::E - 1.5;
/// Octets of UDP and IPv4 headers counted in the average RTCP size (§6.2).
pub const UDP_IP_OVERHEAD: usize = 28;

/// Configuration of the interval computation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReportIntervalConfig {
    /// Session bandwidth, bits per second (G.711 at 20 ms with headers: 80 000).
    pub session_bandwidth_bps: f64,
    /// Share of the session bandwidth for RTCP (§6.2 recommends 5 %).
    pub rtcp_fraction: f64,
    /// Use the reduced minimum 360 / session kbit/s instead of 5 s (§6.2).
    pub reduced_minimum: bool,
}

impl Default for ReportIntervalConfig {
    fn default() -> Self {
        ReportIntervalConfig {
            session_bandwidth_bps: 80_000.0,
            rtcp_fraction: 0.05,
            reduced_minimum: false,
        }
    }
}

/// The state of the computation: the average compound RTCP size and whether a report has
/// been sent yet.
#[derive(Clone, Debug)]
pub struct ReportInterval {
    cfg: ReportIntervalConfig,
    /// Average compound packet size, octets, UDP/IP included (A.7 `avg_rtcp_size`).
    avg_rtcp_size: f64,
    initial: bool,
}

impl ReportInterval {
    /// A new participant, before its first report; `initial_size` is the expected size of
    /// its first compound packet (without UDP/IP).
    pub fn new(cfg: ReportIntervalConfig, initial_size: usize) -> Self {
        ReportInterval {
            cfg,
            avg_rtcp_size: (initial_size + UDP_IP_OVERHEAD) as f64,
            initial: true,
        }
    }

    /// Accounts for a compound RTCP packet sent or received (§6.3.3: `avg_rtcp_size =
    /// 1/16 * packet_size + 15/16 * avg_rtcp_size`).
    pub fn on_rtcp_packet(&mut self, size: usize) {
        self.avg_rtcp_size += ((size + UDP_IP_OVERHEAD) as f64 - self.avg_rtcp_size) / 16.0;
    }

    /// Marks that the first report has been sent.
    pub fn on_report_sent(&mut self) {
        self.initial = false;
    }

    /// The deterministic part of the interval, seconds, before randomisation.
    pub fn deterministic(&self, members: u32, senders: u32, we_sent: bool) -> f64 {
        let mut min_time = if self.cfg.reduced_minimum {
            360.0 / (self.cfg.session_bandwidth_bps / 1000.0)
        } else {
            RTCP_MIN_TIME
        };
        if self.initial {
            min_time /= 2.0;
        }
        let mut rtcp_bw = self.cfg.session_bandwidth_bps * self.cfg.rtcp_fraction / 8.0;
        let mut n = f64::from(members.max(1));
        if f64::from(senders) <= f64::from(members) * SENDER_FRACTION {
            if we_sent {
                rtcp_bw *= SENDER_FRACTION;
                n = f64::from(senders.max(1));
            } else {
                rtcp_bw *= RECEIVER_FRACTION;
                n -= f64::from(senders);
            }
        }
        let t = self.avg_rtcp_size * n / rtcp_bw;
        t.max(min_time)
    }

    /// The next interval in microseconds (A.7 `rtcp_interval`), randomised with `rng`.
    pub fn next_interval_us(
        &self,
        members: u32,
        senders: u32,
        we_sent: bool,
        rng: &mut SplitMix64,
    ) -> u64 {
        let t = self.deterministic(members, senders, we_sent);
        let t = t * (rng.next_f64() + 0.5) / COMPENSATION;
        (t * 1e6) as u64
    }
}

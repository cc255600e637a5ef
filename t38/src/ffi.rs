//! The part of spandsp 0.0.6's C interface the relay uses (`spandsp/t38_gateway.h`,
//! `spandsp/t38_core.h`). The states are opaque: spandsp allocates and frees them.

use std::ffi::{c_int, c_void};

/// `t38_gateway_state_t`.
pub type GatewayState = c_void;
/// `t38_core_state_t`.
pub type CoreState = c_void;

/// `t38_tx_packet_handler_t`: one IFP packet to send `count` times.
pub type TxPacketHandler = unsafe extern "C" fn(
    core: *mut CoreState,
    user: *mut c_void,
    buf: *const u8,
    len: c_int,
    count: c_int,
) -> c_int;

/// `t38_gateway_state_t.t38_stats_t`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy)]
pub struct TransferStats {
    pub bit_rate: c_int,
    pub error_correcting_mode: c_int,
    pub pages_transferred: c_int,
}

/// `T30_SUPPORT_V27TER | T30_SUPPORT_V29 | T30_SUPPORT_V17` (t30.h).
pub const MODEMS_V27TER_V29_V17: c_int = 0x01 | 0x02 | 0x04;
/// `T38_DATA_RATE_MANAGEMENT_LOCAL_TCF`, `..._TRANSFERRED_TCF` (t38_core.h).
pub const RATE_MANAGEMENT_LOCAL_TCF: c_int = 1;
pub const RATE_MANAGEMENT_TRANSFERRED_TCF: c_int = 2;
/// `t38_packet_categories_e`.
pub const CATEGORY_INDICATOR: c_int = 0;
pub const CATEGORY_CONTROL_DATA: c_int = 1;
pub const CATEGORY_CONTROL_DATA_END: c_int = 2;
pub const CATEGORY_IMAGE_DATA: c_int = 3;
pub const CATEGORY_IMAGE_DATA_END: c_int = 4;

#[link(name = "spandsp")]
unsafe extern "C" {
    pub fn t38_gateway_init(
        s: *mut GatewayState,
        tx: TxPacketHandler,
        user: *mut c_void,
    ) -> *mut GatewayState;
    pub fn t38_gateway_free(s: *mut GatewayState) -> c_int;
    pub fn t38_gateway_rx(s: *mut GatewayState, amp: *mut i16, len: c_int) -> c_int;
    pub fn t38_gateway_rx_fillin(s: *mut GatewayState, len: c_int) -> c_int;
    pub fn t38_gateway_tx(s: *mut GatewayState, amp: *mut i16, max_len: c_int) -> c_int;
    pub fn t38_gateway_set_ecm_capability(s: *mut GatewayState, ecm_allowed: c_int);
    pub fn t38_gateway_set_transmit_on_idle(s: *mut GatewayState, on: c_int);
    pub fn t38_gateway_set_supported_modems(s: *mut GatewayState, modems: c_int);
    pub fn t38_gateway_set_fill_bit_removal(s: *mut GatewayState, remove: c_int);
    pub fn t38_gateway_get_transfer_statistics(s: *mut GatewayState, t: *mut TransferStats);
    pub fn t38_gateway_get_t38_core_state(s: *mut GatewayState) -> *mut CoreState;

    pub fn t38_core_rx_ifp_packet(
        s: *mut CoreState,
        buf: *const u8,
        len: c_int,
        seq_no: u16,
    ) -> c_int;
    pub fn t38_set_t38_version(s: *mut CoreState, version: c_int);
    pub fn t38_set_data_rate_management_method(s: *mut CoreState, method: c_int);
    pub fn t38_set_max_datagram_size(s: *mut CoreState, size: c_int);
    pub fn t38_set_redundancy_control(s: *mut CoreState, category: c_int, setting: c_int);
    pub fn t38_set_fastest_image_data_rate(s: *mut CoreState, max_rate: c_int);
}

//! Caller-ID transmission for an FXS port: the call's [`CallerInfo`] as an MDMF message
//! (ETSI EN 300 659-3 / Telcordia GR-30 multiple data message format) sent as FSK.

use super::events::CallerInfo;
use tipring_media::callerid::{
    CallerIdError, CallerIdRepr, Field, Format, FskParams, FskStandard, FskTransmitter, Text,
};

/// Longest message the FSK transmitter takes, bytes.
const MAX_MESSAGE: usize = 64;

/// An FSK burst carrying `info` (number and name; a missing field is left out), ready to
/// be played to the on-hook phone.
pub fn fsk_burst(
    info: &CallerInfo,
    standard: FskStandard,
) -> Result<FskTransmitter, CallerIdError> {
    let mut buf = [0u8; MAX_MESSAGE];
    let n = message(info, &mut buf)?;
    FskTransmitter::new(FskParams::new(standard), &buf[..n])
}

/// `info` as an MDMF message in `buf`; its length.
fn message(info: &CallerInfo, buf: &mut [u8; MAX_MESSAGE]) -> Result<usize, CallerIdError> {
    let field = |s: &Option<String>| -> Result<Option<Field>, CallerIdError> {
        s.as_deref()
            .map(|s| Text::new(s.as_bytes()).map(Field::Present))
            .transpose()
    };
    let repr = CallerIdRepr {
        datetime: None,
        number: field(&info.number)?,
        name: field(&info.name)?,
    };
    repr.emit(Format::Mdmf, buf)
}

/// The caller-ID message for a phone in a call (caller ID on call waiting): no channel
/// seizure, a shorter mark (GR-30-CORE off-hook data, EN 300 659-2).
pub fn off_hook_burst(
    info: &CallerInfo,
    standard: FskStandard,
) -> Result<FskTransmitter, CallerIdError> {
    let params = FskParams {
        seizure_bits: 0,
        mark_bits: tipring_media::callerid::offhook::MARK_BITS,
        ..FskParams::new(standard)
    };
    let mut buf = [0u8; MAX_MESSAGE];
    let n = message(info, &mut buf)?;
    FskTransmitter::new(params, &buf[..n])
}

/// An FSK burst carrying the visual message-waiting indication `on` (MDMF message type
/// 0x82), for an on-hook phone.
pub fn mwi_burst(on: bool, standard: FskStandard) -> Result<FskTransmitter, CallerIdError> {
    let mut buf = [0u8; 8];
    let n = tipring_media::callerid::emit_mwi(on, &mut buf)?;
    FskTransmitter::new(FskParams::new(standard), &buf[..n])
}

//! Visual message-waiting indication (VMWI) messages: the MDMF "message waiting
//! notification" (message type 0x82, Telcordia GR-30-CORE / SR-3004, ETSI EN 300 659-3's
//! message-waiting indicator) with the visual-indicator parameter 0x0B (0xFF on, 0x00
//! off), and the older SDMF form (type 0x06, three bytes 0x42 on or 0x6F off). They travel
//! as on-hook FSK, without ringing, like caller ID.

use super::message::{CallerIdError, Message, checksum};

/// Message type: MDMF message waiting notification.
pub const TYPE_MDMF_MWI: u8 = 0x82;
/// Message type: SDMF message waiting indicator.
pub const TYPE_SDMF_MWI: u8 = 0x06;
/// MDMF parameter: visual indicator.
pub const PARAM_VISUAL_INDICATOR: u8 = 0x0B;

/// Writes the MDMF message for `on` into `out`; its length.
pub fn emit_mwi(on: bool, out: &mut [u8]) -> Result<usize, CallerIdError> {
    let body = [
        TYPE_MDMF_MWI,
        3,
        PARAM_VISUAL_INDICATOR,
        1,
        if on { 0xFF } else { 0x00 },
    ];
    let n = body.len() + 1;
    if out.len() < n {
        return Err(CallerIdError::BufferTooSmall(out.len()));
    }
    out[..body.len()].copy_from_slice(&body);
    out[body.len()] = checksum(&body);
    Ok(n)
}

/// What a checked message says about waiting messages: `Some(on)` for a message-waiting
/// message of either format, `None` for any other message (caller ID) or a malformed one.
pub fn message_waiting(m: &Message<'_>) -> Option<bool> {
    let data = m.data();
    match m.message_type() {
        TYPE_MDMF_MWI => {
            let mut i = 0;
            while i + 2 <= data.len() {
                let (param, len) = (data[i], usize::from(data[i + 1]));
                let value = data.get(i + 2..i + 2 + len)?;
                if param == PARAM_VISUAL_INDICATOR {
                    return match value {
                        [0xFF] => Some(true),
                        [0x00] => Some(false),
                        _ => None,
                    };
                }
                i += 2 + len;
            }
            None
        }
        TYPE_SDMF_MWI => match data {
            [0x42, 0x42, 0x42] => Some(true),
            [0x6F, 0x6F, 0x6F] => Some(false),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mdmf_round_trip_and_the_sdmf_form() {
        for on in [true, false] {
            let mut buf = [0u8; 8];
            let n = emit_mwi(on, &mut buf).unwrap();
            let m = Message::new_checked(&buf[..n]).unwrap();
            assert_eq!(message_waiting(&m), Some(on));
        }
        let mut sdmf = vec![TYPE_SDMF_MWI, 3, 0x42, 0x42, 0x42];
        sdmf.push(checksum(&sdmf));
        assert_eq!(
            message_waiting(&Message::new_checked(&sdmf).unwrap()),
            Some(true)
        );
        assert_eq!(
            emit_mwi(true, &mut [0u8; 3]),
            Err(CallerIdError::BufferTooSmall(3))
        );
    }

    #[test]
    fn other_and_malformed_messages_say_nothing() {
        // A parameter whose length runs past the data, and a bad indicator value.
        for data in [
            [PARAM_VISUAL_INDICATOR, 5, 0xFF],
            [PARAM_VISUAL_INDICATOR, 1, 0x7F],
        ] {
            let mut m = vec![TYPE_MDMF_MWI, 3];
            m.extend_from_slice(&data);
            m.push(checksum(&m));
            assert_eq!(message_waiting(&Message::new_checked(&m).unwrap()), None);
        }
        let mut cid = vec![0x80, 3, 0x02, 1, b'5'];
        cid.push(checksum(&cid));
        assert_eq!(message_waiting(&Message::new_checked(&cid).unwrap()), None);
    }
}

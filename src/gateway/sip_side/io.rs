//! TEMPORARY placeholder of gw-sip's tokio driver (replaced by the merge).

use super::{PortEvent, SipSide};
use crate::call::SipIntent;
use tokio::sync::{mpsc, watch};

pub async fn run(
    side: SipSide,
    mut intents: mpsc::Receiver<(u8, SipIntent)>,
    events: mpsc::Sender<PortEvent>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let sock = tokio::net::UdpSocket::bind(side.local).await?;
    let _ = events
        .send(PortEvent::Notice(format!(
            "placeholder SIP side on {}",
            sock.local_addr()?
        )))
        .await;
    loop {
        tokio::select! {
            i = intents.recv() => if i.is_none() { return Ok(()) },
            _ = shutdown.changed() => return Ok(()),
        }
    }
}

//! The TLS options shared by `answer`, `call` and `register` (RFC 3261 §26.3.1): a
//! certificate and key to accept connections, CA certificates to verify the peer when we
//! connect.

use clap::Args as ClapArgs;
use std::net::SocketAddr;
use std::path::PathBuf;
use tipring_sip::transaction::Transport;
use tipring_sip::transport::tls;
use tipring_sip::ua::UaConfig;
use tipring_sip::ua::runner::{TlsSetup, UaRunner};

#[derive(Debug, Clone, ClapArgs)]
pub struct TlsArgs {
    /// With --transport tls: our certificate chain (PEM), to accept connections.
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// With --transport tls: the private key of --cert (PEM).
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// With --transport tls: CA certificates (PEM) that verify the peers we connect to.
    #[arg(long)]
    pub ca: Option<PathBuf>,
}

impl TlsArgs {
    /// Binds the UA runner on `listen` over `t`; for TLS with the configured files.
    pub async fn bind(
        &self,
        listen: SocketAddr,
        t: Transport,
        make: impl FnOnce(SocketAddr) -> UaConfig,
    ) -> Result<UaRunner, String> {
        if t != Transport::Tls {
            return UaRunner::bind(listen, t, make)
                .await
                .map_err(|e| format!("cannot bind {listen}: {e}"));
        }
        let server = match (&self.cert, &self.key) {
            (Some(c), Some(k)) => Some(tls::server_config(c, k).map_err(|e| e.to_string())?),
            _ => None,
        };
        let client = match &self.ca {
            Some(ca) => Some(tls::client_config(ca).map_err(|e| e.to_string())?),
            None => None,
        };
        if server.is_none() && client.is_none() {
            return Err(
                "--transport tls needs --cert and --key (to accept) and/or --ca (to connect)"
                    .into(),
            );
        }
        UaRunner::bind_tls(listen, TlsSetup { server, client }, make)
            .await
            .map_err(|e| format!("cannot bind {listen}: {e}"))
    }
}

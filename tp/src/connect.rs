//! Reaching the peer: a local peer built from the command line's transport options, the
//! dial, and the time budget the whole command shares.

use std::time::{Duration, Instant};

use teleport::peer::DialOptions;
use teleport::transport::tls::{self, TlsConfig};
use teleport::{Peer, PeerConfig, Session};

use crate::args::Conn;
use crate::failure::Failure;

/// What is left of `--timeout`: the dial, the manifest and the call share it, so that the
/// command ends within the timeout whatever it does.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    deadline: Option<Instant>,
}

impl Budget {
    /// A budget of `timeout` from now; zero for none.
    pub(crate) fn new(timeout: Duration) -> Self {
        Budget { deadline: (!timeout.is_zero()).then(|| Instant::now() + timeout) }
    }

    /// The time left, at least 1 ms; zero (which the runtime reads as "no limit") when
    /// there is no deadline.
    pub(crate) fn left(&self) -> Duration {
        self.deadline.map_or(Duration::ZERO, |at| {
            at.saturating_duration_since(Instant::now()).max(Duration::from_millis(1))
        })
    }
}

/// A local peer configured from `conn`: its network, protocol and certificates. `listen`
/// makes it listen on `conn.addr` rather than dial it.
pub(crate) fn local_peer(conn: &Conn, listen: bool) -> Result<Peer, Failure> {
    // Dials and calls get their time from the budget; the write timeout bounds the flush
    // of a push when the session closes.
    let mut config = PeerConfig { network: conn.network.network(), ..PeerConfig::default() };
    if !conn.timeout.is_zero() {
        config.write_timeout = conn.timeout;
    }
    if listen {
        listen_at(&mut config, conn)?;
    }
    let mut builder = Peer::builder(config).protocol(conn.proto.protocol());
    if conn.network.uses_tls() {
        builder = builder.tls(tls_client(conn)?);
    }
    builder.build().map_err(|e| Failure::Input(e.to_string()))
}

/// Dials the peer at `conn.addr` within the budget, from a local peer of its own.
pub(crate) async fn dial(conn: &Conn, budget: Budget) -> Result<Session, Failure> {
    dial_from(&local_peer(conn, false)?, conn, budget).await
}

/// Dials the peer at `conn.addr` within the budget, from `peer`; the session never redials.
pub(crate) async fn dial_from(
    peer: &Peer,
    conn: &Conn,
    budget: Budget,
) -> Result<Session, Failure> {
    let options =
        DialOptions { timeout: Some(budget.left()), redial: Some(false), ..Default::default() };
    peer.dial_with(conn.addr.as_str(), options).await.map_err(Failure::Unreachable)
}

/// The client side of TLS: trust the `--ca` certificates, check `--server-name`.
fn tls_client(conn: &Conn) -> Result<TlsConfig, Failure> {
    let Some(ca) = &conn.ca else {
        return Err(Failure::Input(format!(
            "--network {} needs --ca PEM_FILE: the certificate (or CA) to trust",
            conn.network.network()
        )));
    };
    let roots = tls::load_roots(ca).map_err(|e| Failure::Input(e.to_string()))?;
    let client = tls::client_config(roots).map_err(|e| Failure::Input(e.to_string()))?;
    let config = TlsConfig::new().with_client(client);
    Ok(match &conn.server_name {
        Some(name) => config.with_server_name(name),
        None => config,
    })
}

/// Sets the listen address of `config` from `conn.addr`: a path on the Unix networks,
/// `host:port` on the others; the TLS networks are refused (`tp` holds no certificate).
fn listen_at(config: &mut PeerConfig, conn: &Conn) -> Result<(), Failure> {
    let network = conn.network.network();
    if conn.network.uses_tls() {
        return Err(Failure::Input(format!(
            "listen --serve cannot serve --network {network}: tp has no certificate to present"
        )));
    }
    if network.is_unix() {
        config.unix_path = Some(conn.addr.clone().into());
        return Ok(());
    }
    let bad = || Failure::Input(format!("listen --serve needs HOST:PORT, got {:?}", conn.addr));
    let (host, port) = conn.addr.rsplit_once(':').ok_or_else(bad)?;
    config.listen_port = port.parse().map_err(|_| bad())?;
    config.local_ip = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_timeout_is_no_deadline_and_a_spent_one_leaves_a_millisecond() {
        assert_eq!(Budget::new(Duration::ZERO).left(), Duration::ZERO);
        let spent = Budget { deadline: Some(Instant::now()) };
        assert_eq!(spent.left(), Duration::from_millis(1));
        assert!(Budget::new(Duration::from_secs(60)).left() > Duration::from_secs(1));
    }
}

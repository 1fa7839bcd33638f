//! Several listeners per peer: [`ListenerConfig`] (plain data, in
//! [`PeerConfig::listeners`] or given to [`Peer::listen_on`]) and the [`Protocol`] it names.
//!
//! ```
//! use teleport::peer::{PeerConfig, Protocol};
//!
//! let config = PeerConfig::from_toml_str(r#"
//!     listen_port = 9090                 # the main listener: the peer's protocol (raw)
//!
//!     [[listeners]]                      # and HTTP clients on 8080
//!     listen_port = 8080
//!     protocol = "http"
//!     http_status_codes = true
//! "#);
//! #[cfg(feature = "http")]
//! assert_eq!(config?.listeners[0].protocol, Some(Protocol::Http));
//! // A protocol whose feature is off is refused when the configuration is loaded.
//! #[cfg(not(feature = "http"))]
//! assert!(config.unwrap_err().to_string().contains("needs the `http` feature"));
//! # Ok::<(), teleport::peer::ConfigError>(())
//! ```

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::config::{check_local_ip, listen_addr};
use super::{Network, Peer, PeerConfig};
use crate::proto::{JsonProto, Limits, Proto, RawProto};
use crate::transport::{self, Addr, Conn, Listener};
use crate::xfer::XferRegistry;

/// A wire protocol, by the name configuration gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Protocol {
    /// `"raw"`: [`RawProto`], Go eRPC's default.
    Raw,
    /// `"json"`: [`JsonProto`].
    Json,
    /// `"protobuf"`: `ProtobufProto` (feature `protobuf`).
    Protobuf,
    /// `"thrift"`: `ThriftProto::binary` (feature `thrift`).
    Thrift,
    /// `"http"`: `HttpProto` (feature `http`): calls as HTTP/1.1 requests, so that `curl`
    /// and any HTTP client call routes.
    Http,
}

impl Protocol {
    /// The name used in configuration: `"raw"`, `"json"`, `"protobuf"`, `"thrift"`, `"http"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Raw => "raw",
            Protocol::Json => "json",
            Protocol::Protobuf => "protobuf",
            Protocol::Thrift => "thrift",
            Protocol::Http => "http",
        }
    }

    /// Why this build cannot serve the protocol (a feature is off), if it cannot.
    fn unavailable(self) -> Option<String> {
        let on = match self {
            Protocol::Raw | Protocol::Json => true,
            Protocol::Protobuf => cfg!(feature = "protobuf"),
            Protocol::Thrift => cfg!(feature = "thrift"),
            Protocol::Http => cfg!(feature = "http"),
        };
        (!on).then(|| format!("protocol {0} needs the `{0}` feature", self.as_str()))
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One listener: where it listens and the protocol its connections speak. It shares the
/// peer's routes, plugins, limits, codecs and transfer filters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ListenerConfig {
    /// The transport. Default [`Network::Tcp`].
    pub network: Network,
    /// The local IP address (or host name) to listen on, as
    /// [`PeerConfig::local_ip`]. Default `"0.0.0.0"`.
    pub local_ip: String,
    /// The port; 0 lets the OS pick one. Default 0.
    pub listen_port: u16,
    /// The socket path, required on the Unix networks. Default none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unix_path: Option<PathBuf>,
    /// The protocol, built with the peer's limits and transfer filters; none means the
    /// peer's own protocol (raw unless the builder set another). Default none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// With `protocol = "http"`: answer errors with their HTTP status (404, 400, 401, 503,
    /// 500...) instead of Go's `299 Business Error`, so that `curl -f`, load balancers and
    /// monitors see failures; see `HttpProto::http_status_codes`. Leave it off where Go
    /// httproto clients call. Default `false`.
    pub http_status_codes: bool,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        ListenerConfig {
            network: Network::Tcp,
            local_ip: "0.0.0.0".to_owned(),
            listen_port: 0,
            unix_path: None,
            protocol: None,
            http_status_codes: false,
        }
    }
}

impl ListenerConfig {
    /// A TCP listener on `local_ip:listen_port` speaking `protocol`.
    pub fn tcp(local_ip: impl Into<String>, listen_port: u16, protocol: Protocol) -> Self {
        ListenerConfig {
            local_ip: local_ip.into(),
            listen_port,
            protocol: Some(protocol),
            ..ListenerConfig::default()
        }
    }

    /// The address a TCP listener binds, `host:port`; `None` on the Unix networks.
    pub fn listen_addr(&self) -> Option<String> {
        listen_addr(self.network, &self.local_ip, self.listen_port)
    }

    /// Checks that the listener can be served; the reason when not.
    pub(crate) fn validate(&self) -> Result<(), String> {
        check_local_ip(self.network, &self.local_ip).map_err(|e| format!("local_ip: {e}"))?;
        match &self.unix_path {
            Some(path) if path.as_os_str().is_empty() => return Err("unix_path is empty".into()),
            None if self.network.is_unix() => {
                return Err(format!("network {} needs a unix_path", self.network));
            }
            _ => {}
        }
        if self.http_status_codes && self.protocol != Some(Protocol::Http) {
            return Err("http_status_codes needs protocol \"http\"".into());
        }
        match self.protocol.and_then(Protocol::unavailable) {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }

    /// The main listener of a configuration: its top-level address, the peer's protocol.
    pub(crate) fn main(config: &PeerConfig) -> Self {
        ListenerConfig {
            network: config.network,
            local_ip: config.local_ip.clone(),
            listen_port: config.listen_port,
            unix_path: config.unix_path.clone(),
            protocol: None,
            http_status_codes: false,
        }
    }
}

/// How a listener serves its connections: one protocol value shared by them all, or with
/// the http protocol, a value per connection holding the state that ends it after the
/// reply to `Connection: close`.
#[derive(Clone)]
pub(crate) struct Serving {
    proto: Arc<dyn Proto>,
    #[cfg(feature = "http")]
    http: Option<crate::proto::HttpProto>,
}

impl Serving {
    /// Every connection speaks `proto`, a value of the user's.
    pub(crate) fn shared(proto: Arc<dyn Proto>) -> Self {
        Serving {
            proto,
            #[cfg(feature = "http")]
            http: None,
        }
    }

    /// `protocol` with the peer's limits and filters.
    pub(crate) fn build(
        protocol: Protocol,
        limits: Limits,
        filters: &Arc<XferRegistry>,
        http_status_codes: bool,
    ) -> Result<Self, String> {
        let filters = filters.clone();
        let proto: Arc<dyn Proto> = match protocol {
            Protocol::Raw => Arc::new(RawProto::new(limits, filters)),
            Protocol::Json => Arc::new(JsonProto::new(limits, filters)),
            #[cfg(feature = "protobuf")]
            Protocol::Protobuf => Arc::new(crate::proto::ProtobufProto::new(limits, filters)),
            #[cfg(feature = "thrift")]
            Protocol::Thrift => Arc::new(crate::proto::ThriftProto::binary(limits, filters)),
            #[cfg(feature = "http")]
            Protocol::Http => {
                let http = crate::proto::HttpProto::new(limits, filters)
                    .http_status_codes(http_status_codes);
                return Ok(Serving { proto: Arc::new(http.clone()), http: Some(http) });
            }
            #[allow(unreachable_patterns)]
            _ => return Err(protocol.unavailable().unwrap_or_default()),
        };
        let _ = http_status_codes;
        Ok(Serving::shared(proto))
    }

    /// The protocol, as dialing uses it.
    pub(crate) fn proto(&self) -> &Arc<dyn Proto> {
        &self.proto
    }

    /// The connection as it is served, and the protocol it speaks.
    pub(crate) fn accept(&self, conn: Conn) -> (Conn, Arc<dyn Proto>) {
        #[cfg(feature = "http")]
        if let Some(http) = &self.http {
            let (proto, state) = http.for_connection();
            return (super::http_conn::wrap(conn, state), Arc::new(proto));
        }
        (conn, self.proto.clone())
    }
}

impl Peer {
    /// Binds `config`'s listener with the peer's socket options and transport settings.
    pub(crate) async fn bind(&self, config: &ListenerConfig) -> io::Result<Box<dyn Listener>> {
        let addr = config.listen_addr().unwrap_or_default();
        transport::bind(config.network, &addr, config.unix_path.as_deref(), self.transports()).await
    }

    /// Listens on one more listener and serves its connections in the background with the
    /// peer's routes, plugins, limits and filters. Returns the bound address (useful with
    /// port 0). A listener that cannot be served (bad address, a protocol whose feature is
    /// off) is an `InvalidInput` error.
    pub async fn listen_on(&self, listener: &ListenerConfig) -> io::Result<Addr> {
        let invalid = |reason| io::Error::new(io::ErrorKind::InvalidInput, reason);
        listener.validate().map_err(invalid)?;
        let serving = match listener.protocol {
            None => self.inner.serving.clone(),
            Some(protocol) => Serving::build(
                protocol,
                self.config().limits(),
                &self.inner.filters,
                listener.http_status_codes,
            )
            .map_err(invalid)?,
        };
        let bound = self.bind(listener).await?;
        Ok(self.serve_with(bound, serving))
    }

    /// Listens on the main listener ([`listen`](Self::listen)) and on every one of
    /// [`PeerConfig::listeners`], in that order; returns their addresses in the same order.
    /// On an error, the listeners already bound keep serving until the peer shuts down.
    pub async fn listen_all(&self) -> io::Result<Vec<Addr>> {
        let mut addrs = vec![self.listen().await?];
        for listener in &self.config().listeners {
            addrs.push(self.listen_on(listener).await?);
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_load_and_validate() {
        let text = "listen_port = 9090\n[[listeners]]\nlisten_port = 8080\nprotocol = \"json\"\n\
                    [[listeners]]\nnetwork = \"unix\"\nunix_path = \"/tmp/x.sock\"\n";
        let config = PeerConfig::from_toml_str(text).unwrap();
        assert_eq!(config.listeners.len(), 2);
        assert_eq!(config.listeners[0], ListenerConfig::tcp("0.0.0.0", 8080, Protocol::Json));
        assert_eq!(config.listeners[1].listen_addr(), None);
        let back = toml::to_string(&config).unwrap();
        assert_eq!(PeerConfig::from_toml_str(&back).unwrap(), config);
        let yaml = "listeners:\n  - listen_port: 1\n    protocol: raw\n";
        assert_eq!(PeerConfig::from_yaml_str(yaml).unwrap().listeners[0].listen_port, 1);

        for (text, want) in [
            ("[[listeners]]\nprotocol = \"smtp\"", "unknown variant"),
            ("[[listeners]]\nport = 1", "unknown field"),
            ("[[listeners]]\nhttp_status_codes = true", "needs protocol \"http\""),
            ("[[listeners]]\nnetwork = \"unix\"", "needs a unix_path"),
            ("[[listeners]]\nlocal_ip = \"a b\"", "local_ip"),
        ] {
            let err = PeerConfig::from_toml_str(text).unwrap_err().to_string();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn protocols_have_names() {
        for protocol in
            [Protocol::Raw, Protocol::Json, Protocol::Protobuf, Protocol::Thrift, Protocol::Http]
        {
            let text = format!("[[listeners]]\nprotocol = \"{protocol}\"");
            match PeerConfig::from_toml_str(&text) {
                Ok(config) => assert_eq!(config.listeners[0].protocol, Some(protocol)),
                Err(e) => assert!(protocol.unavailable().is_some(), "{e}"),
            }
        }
    }
}

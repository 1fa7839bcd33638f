//! [`PeerConfig`]: what a peer listens on, how it dials, and the limits it enforces.
//!
//! The first fields are Go eRPC's `PeerConfig`, with its YAML keys, so a Go config file
//! loads as is; the others are the limits of `RELIABILITY.md`, each with a safe default.
//! Durations are human strings: `"5s"`, `"100ms"`, `"1m30s"`, `"1h"`.
//!
//! ```
//! use std::time::Duration;
//! use teleport::peer::PeerConfig;
//!
//! let config = PeerConfig::from_toml_str(r#"
//!     listen_port = 9090
//!     call_timeout = "5s"
//!     redial_times = -1
//! "#)?;
//! assert_eq!(config.call_timeout, Duration::from_secs(5));
//! assert_eq!(config.listen_addr().as_deref(), Some("0.0.0.0:9090"));
//! # Ok::<(), teleport::peer::ConfigError>(())
//! ```

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::listener::ListenerConfig;
use crate::proto::{DEFAULT_MAX_FRAME, DEFAULT_MAX_META, Limits};
use crate::socket::PushPolicy;
use crate::transport::Network;
use crate::transport::tcp::SocketOptions;

/// The longest duration accepted anywhere (about 136 years), so deadline arithmetic on
/// `Instant` can never overflow.
const MAX_DURATION: Duration = Duration::from_secs(u32::MAX as u64);

/// The configuration of a peer: plain data with documented defaults.
///
/// Build one with struct update syntax (`PeerConfig { listen_port: 9090, ..Default::default() }`)
/// or load it with [`from_toml_str`](Self::from_toml_str), [`from_yaml_str`](Self::from_yaml_str)
/// or [`from_file`](Self::from_file); missing keys take their defaults and unknown keys are
/// an error. [`validate`](Self::validate) rejects values a peer cannot work with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PeerConfig {
    /// The transport. Default [`Network::Tcp`].
    pub network: Network,
    /// The local IP address (or host name) to listen on, unused on Unix sockets. Empty means
    /// the unspecified address, as does `0.0.0.0` on `tcp6` (Go listens on `::` then).
    /// Default `"0.0.0.0"`.
    pub local_ip: String,
    /// The TCP port to listen on; 0 lets the OS pick one. Default 0.
    pub listen_port: u16,
    /// The socket path a Unix listener binds; required to listen on [`Network::Unix`] and
    /// [`Network::Unixpacket`].
    /// Default none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unix_path: Option<PathBuf>,
    /// How long a dial may take before it fails with 105 Dial Failed (Go's `DialTimeout`).
    /// Default 10 s, enough for three SYN retransmissions.
    #[serde(with = "humantime_serde", alias = "dial_timeout")]
    pub default_dial_timeout: Duration,
    /// How many times a client session redials after its connection broke: below 0 without
    /// end, 0 never. Default 0.
    pub redial_times: i32,
    /// The first wait before a redial; each further wait grows 1.6× with ±20 % jitter up to
    /// [`redial_max_interval`](Self::redial_max_interval). Default 100 ms.
    #[serde(with = "humantime_serde")]
    pub redial_interval: Duration,
    /// The longest wait between two redials. Default 30 s.
    #[serde(with = "humantime_serde")]
    pub redial_max_interval: Duration,
    /// The name of the codec for bodies sent without an explicit one (`json`, `plain`,
    /// `form`, `protobuf`...); the peer checks it against its codec registry. Default `"json"`.
    pub default_body_codec: String,
    /// How long a session lives before it is closed; 0 means without limit. Default 0.
    #[serde(with = "humantime_serde")]
    pub default_session_age: Duration,
    /// How long one call or push context may live; 0 means without limit. Default 0.
    #[serde(with = "humantime_serde")]
    pub default_context_age: Duration,
    /// Calls and pushes taking this long or longer are logged as slow, at `WARN`, on the
    /// side that calls and on the side that handles; needs `count_time`. 0 turns it off.
    /// Default 0.
    #[serde(with = "humantime_serde")]
    pub slow_comet_duration: Duration,
    /// How long a synchronous handler (a `#[service]` method that is not `async`) may hold
    /// its connection's read loop before a warning names its route, once per route; 0 turns
    /// the check off. Such a handler runs on the read loop, so nothing else of its session
    /// is read meanwhile: make a method that waits `async`, and one that blocks
    /// `#[tp(blocking)]`. Default 50 ms.
    #[serde(with = "humantime_serde")]
    pub sync_handler_warning: Duration,
    /// Whether the line logged for each message (target `teleport::detail`, one per message
    /// on each side, in Go Teleport's `CALL->` / `CALL<-` / `PUSH->` / `PUSH<-` shapes) shows
    /// its meta and body, and is logged at `INFO` rather than `DEBUG`. Default `false`.
    pub print_detail: bool,
    /// The most bytes of a body that such a line shows; longer bodies are cut, with the
    /// number of bytes left out. Default 512.
    pub print_body_max: usize,
    /// Whether the time each call and push takes is measured and shown in its line (else
    /// `(-)`); slow calls are found this way. Default `false`.
    pub count_time: bool,
    /// Whether TCP keepalive probes are sent (`SO_KEEPALIVE`). Default `true`.
    pub keepalive: bool,
    /// The idle time before the first keepalive probe, and between probes. Default 60 s.
    #[serde(with = "humantime_serde")]
    pub keepalive_period: Duration,
    /// Whether Nagle's algorithm is off (`TCP_NODELAY`). Default `true`.
    pub no_delay: bool,
    /// The socket receive buffer (`SO_RCVBUF`), in bytes; 0 keeps the OS default. Default 0.
    pub read_buffer_size: usize,
    /// The socket send buffer (`SO_SNDBUF`), in bytes; 0 keeps the OS default. Default 0.
    pub write_buffer_size: usize,
    /// How many connections the kernel queues for each listener before they are accepted
    /// (`listen(2)`'s backlog, capped by the kernel's `somaxconn`), at least 1. Default 1024.
    pub listen_backlog: u32,
    /// The largest frame read or written, in bytes, length prefix included; a larger one is
    /// refused from its length alone. From 64 to `u32::MAX`. Default 4 MiB
    /// ([`DEFAULT_MAX_FRAME`]).
    pub max_frame: usize,
    /// The largest encoded meta, in bytes, at most 65,535. Default 16 KiB
    /// ([`DEFAULT_MAX_META`]).
    pub max_meta: usize,
    /// The deadline of a call without one of its own; on expiry the caller gets 408.
    /// Default 10 s.
    #[serde(with = "humantime_serde")]
    pub call_timeout: Duration,
    /// How long the rest of a frame may take once its first byte arrived; a slower peer is
    /// disconnected. Default 10 s.
    #[serde(with = "humantime_serde")]
    pub frame_read_timeout: Duration,
    /// How many handlers may run at once for one session; past it the session stops reading.
    /// Default 1024.
    pub max_in_flight_handlers: usize,
    /// How many bytes may wait in one session's write queue, at least
    /// [`max_frame`](Self::max_frame). Default 8 MiB.
    pub max_outbound_bytes: usize,
    /// How many bytes may wait to be written, all sessions of the peer together, at least
    /// [`max_frame`](Self::max_frame). Past it, calls and replies wait for room and pushes
    /// follow their [`PushPolicy`]. Default 256 MiB.
    pub max_outbound_bytes_total: usize,
    /// What a push does when it finds no room in the write queues, for routes not in
    /// [`push_policies`](Self::push_policies). Default [`PushPolicy::Wait`].
    pub default_push_policy: PushPolicy,
    /// The [`PushPolicy`] of pushes sent to a route, by route path (`"/chat/state"`): for
    /// example `drop_oldest` for state updates, where only the latest counts. Default none.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub push_policies: BTreeMap<String, PushPolicy>,
    /// How long a write may stall before the session is closed as a slow consumer.
    /// Default 10 s.
    #[serde(with = "humantime_serde")]
    pub write_timeout: Duration,
    /// How many times a message may have been forwarded (by the proxy plugin or
    /// [`Incoming::forward_message`](crate::context::Incoming::forward_message)) when it
    /// arrives to be forwarded again; past it, 508 Loop Detected. At least 1. Default 8.
    pub max_hops: u32,
    /// More listeners, each with its network, address and protocol, served besides the
    /// main one (the fields above) by [`Peer::listen_all`](crate::Peer::listen_all) and
    /// [`Peer::listen_and_serve`](crate::Peer::listen_and_serve); they share the peer's
    /// routes, plugins, limits and filters. In TOML, `[[listeners]]` tables. Default none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub listeners: Vec<ListenerConfig>,
    /// Whether the peer answers calls to [`MANIFEST_ROUTE`](crate::manifest::MANIFEST_ROUTE)
    /// (`/_tp/manifest`) with the [`Manifest`](crate::manifest::Manifest) of the services it
    /// registered: their routes, kinds, argument and reply types and docs, for tools such as
    /// `tp`. Off, the route is unknown (404), as on a Go eRPC peer. Default false.
    pub serve_manifest: bool,
}

impl Default for PeerConfig {
    fn default() -> Self {
        PeerConfig {
            network: Network::Tcp,
            local_ip: "0.0.0.0".to_owned(),
            listen_port: 0,
            unix_path: None,
            default_dial_timeout: Duration::from_secs(10),
            redial_times: 0,
            redial_interval: Duration::from_millis(100),
            redial_max_interval: Duration::from_secs(30),
            default_body_codec: "json".to_owned(),
            default_session_age: Duration::ZERO,
            default_context_age: Duration::ZERO,
            slow_comet_duration: Duration::ZERO,
            sync_handler_warning: Duration::from_millis(50),
            print_detail: false,
            print_body_max: 512,
            count_time: false,
            keepalive: true,
            keepalive_period: Duration::from_secs(60),
            no_delay: true,
            read_buffer_size: 0,
            write_buffer_size: 0,
            listen_backlog: crate::transport::tcp::DEFAULT_LISTEN_BACKLOG,
            max_frame: DEFAULT_MAX_FRAME,
            max_meta: DEFAULT_MAX_META,
            call_timeout: Duration::from_secs(10),
            frame_read_timeout: Duration::from_secs(10),
            max_in_flight_handlers: 1024,
            max_outbound_bytes: 8 << 20,
            max_outbound_bytes_total: 256 << 20,
            default_push_policy: PushPolicy::Wait,
            push_policies: BTreeMap::new(),
            write_timeout: Duration::from_secs(10),
            max_hops: 8,
            listeners: Vec::new(),
            serve_manifest: false,
        }
    }
}

/// Why a configuration could not be loaded or is not usable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read: check its path and permissions.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file name ends neither in `.toml` nor in `.yaml`/`.yml`: rename it or parse the
    /// text with `from_toml_str`/`from_yaml_str`.
    #[error("unsupported config format of {}: expected .toml, .yaml or .yml", .0.display())]
    UnsupportedFormat(PathBuf),
    /// The text is not valid TOML or YAML, has an unknown key, or a value of the wrong type
    /// (a duration must be a string like `"5s"`): fix the place the message points at.
    #[error("invalid {format} config: {reason}")]
    Parse {
        /// `"TOML"` or `"YAML"`.
        format: &'static str,
        /// The parser's message, with the position.
        reason: String,
    },
    /// A field holds a value the peer cannot work with: change that field.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field's name, as in config files.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A plugin's [`pre_new_peer`](crate::Plugin::pre_new_peer) hook refused the
    /// configuration: its status says why.
    #[error("plugin {plugin} refused the configuration: {status}")]
    Refused {
        /// The plugin's name.
        plugin: String,
        /// The status the hook returned.
        status: crate::status::Status,
    },
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { field, reason: reason.into() }
}

impl PeerConfig {
    /// Parses and [validates](Self::validate) a TOML configuration.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let config: Self = toml::from_str(text)
            .map_err(|e| ConfigError::Parse { format: "TOML", reason: e.to_string() })?;
        config.validate()?;
        Ok(config)
    }

    /// Parses and [validates](Self::validate) a YAML configuration.
    pub fn from_yaml_str(text: &str) -> Result<Self, ConfigError> {
        let config: Self = serde_norway::from_str(text)
            .map_err(|e| ConfigError::Parse { format: "YAML", reason: e.to_string() })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads, parses and [validates](Self::validate) a configuration file, TOML if its name
    /// ends in `.toml`, YAML if in `.yaml` or `.yml` (in any case).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let extension = path.extension().and_then(OsStr::to_str).map(str::to_ascii_lowercase);
        let parse = match extension.as_deref() {
            Some("toml") => Self::from_toml_str,
            Some("yaml" | "yml") => Self::from_yaml_str,
            _ => return Err(ConfigError::UnsupportedFormat(path.to_owned())),
        };
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Io { path: path.to_owned(), source })?;
        parse(&text)
    }

    /// The address a TCP listener binds, `host:port` (`0.0.0.0:0`, `[::]:9090`...); `None`
    /// on the Unix networks, whose listener binds [`unix_path`](Self::unix_path).
    pub fn listen_addr(&self) -> Option<String> {
        listen_addr(self.network, &self.local_ip, self.listen_port)
    }

    /// The frame limits for the protocol.
    pub fn limits(&self) -> Limits {
        Limits { max_frame: self.max_frame, max_meta: self.max_meta }
    }

    /// The options of every TCP connection, accepted or dialed.
    pub(crate) fn socket_options(&self) -> SocketOptions {
        SocketOptions {
            no_delay: self.no_delay,
            keepalive: self.keepalive.then_some(self.keepalive_period),
            read_buffer_size: self.read_buffer_size,
            write_buffer_size: self.write_buffer_size,
            listen_backlog: self.listen_backlog,
        }
    }

    /// Checks every field; the first bad one is reported. Loading functions call it.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check_local_ip()?;
        if self.unix_path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
            return Err(invalid("unix_path", "the path is empty"));
        }
        if self.default_body_codec.is_empty() {
            return Err(invalid("default_body_codec", "the codec name is empty"));
        }
        self.check_durations()?;
        self.check_sizes()?;
        for (i, listener) in self.listeners.iter().enumerate() {
            listener
                .validate()
                .map_err(|reason| invalid("listeners", format!("#{i}: {reason}")))?;
        }
        Ok(())
    }

    /// [`validate`](Self::validate), plus what listening needs: a path on Unix sockets.
    pub fn validate_listen(&self) -> Result<(), ConfigError> {
        self.validate()?;
        if self.network.is_unix() && self.unix_path.is_none() {
            return Err(invalid("unix_path", "listening on a unix network needs a socket path"));
        }
        Ok(())
    }

    fn check_local_ip(&self) -> Result<(), ConfigError> {
        check_local_ip(self.network, &self.local_ip).map_err(|reason| invalid("local_ip", reason))
    }

    fn check_durations(&self) -> Result<(), ConfigError> {
        let all = [
            ("default_dial_timeout", self.default_dial_timeout),
            ("redial_interval", self.redial_interval),
            ("redial_max_interval", self.redial_max_interval),
            ("default_session_age", self.default_session_age),
            ("default_context_age", self.default_context_age),
            ("slow_comet_duration", self.slow_comet_duration),
            ("keepalive_period", self.keepalive_period),
            ("call_timeout", self.call_timeout),
            ("frame_read_timeout", self.frame_read_timeout),
            ("write_timeout", self.write_timeout),
        ];
        if let Some((field, _)) = all.iter().find(|(_, d)| *d > MAX_DURATION) {
            return Err(invalid(field, "longer than 136 years"));
        }
        let mut must_be_positive = vec![
            ("default_dial_timeout", self.default_dial_timeout),
            ("call_timeout", self.call_timeout),
            ("frame_read_timeout", self.frame_read_timeout),
            ("write_timeout", self.write_timeout),
        ];
        if self.keepalive {
            must_be_positive.push(("keepalive_period", self.keepalive_period));
        }
        if self.redial_times != 0 {
            must_be_positive.push(("redial_interval", self.redial_interval));
            if self.redial_max_interval < self.redial_interval {
                return Err(invalid("redial_max_interval", "shorter than redial_interval"));
            }
        }
        match must_be_positive.iter().find(|(_, d)| d.is_zero()) {
            Some((field, _)) => Err(invalid(field, "must be longer than zero")),
            None => Ok(()),
        }
    }

    fn check_sizes(&self) -> Result<(), ConfigError> {
        if self.max_frame < 64 || self.max_frame as u64 > u64::from(u32::MAX) {
            return Err(invalid("max_frame", "must be from 64 bytes to u32::MAX"));
        }
        if self.max_meta > usize::from(u16::MAX) {
            return Err(invalid("max_meta", "must be at most 65535 bytes, the field's width"));
        }
        if self.max_in_flight_handlers == 0 {
            return Err(invalid("max_in_flight_handlers", "must be at least 1"));
        }
        if self.max_hops == 0 {
            return Err(invalid("max_hops", "must be at least 1"));
        }
        if self.listen_backlog == 0 || self.listen_backlog > i32::MAX as u32 {
            return Err(invalid("listen_backlog", "must be from 1 to i32::MAX"));
        }
        if self.max_outbound_bytes < self.max_frame {
            return Err(invalid("max_outbound_bytes", "must hold at least one max_frame"));
        }
        if self.max_outbound_bytes_total < self.max_frame {
            return Err(invalid("max_outbound_bytes_total", "must hold at least one max_frame"));
        }
        for (field, size) in [
            ("read_buffer_size", self.read_buffer_size),
            ("write_buffer_size", self.write_buffer_size),
        ] {
            if size as u64 > i32::MAX as u64 {
                return Err(invalid(field, "must be at most i32::MAX bytes"));
            }
        }
        Ok(())
    }
}

/// The address a TCP listener on `network` binds, `host:port`; `None` on the Unix networks.
pub(super) fn listen_addr(network: Network, local_ip: &str, port: u16) -> Option<String> {
    let host = match (network, local_ip) {
        (network, _) if network.is_unix() => return None,
        (Network::Tcp6, "" | "0.0.0.0") => "::",
        (_, "") => "0.0.0.0",
        (_, ip) => ip,
    };
    Some(if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") })
}

/// Checks that `ip` is an address (of the network's family) or a host name.
pub(super) fn check_local_ip(network: Network, ip: &str) -> Result<(), String> {
    if network.is_unix() || ip.is_empty() {
        return Ok(());
    }
    match (ip.parse::<IpAddr>(), network) {
        (Ok(IpAddr::V6(_)), Network::Tcp4) => Err(format!("{ip} is an IPv6 address on tcp4")),
        (Ok(IpAddr::V4(v4)), Network::Tcp6) if !v4.is_unspecified() => {
            Err(format!("{ip} is an IPv4 address on tcp6"))
        }
        (Ok(_), _) => Ok(()),
        (Err(_), _) if is_host_name(ip) => Ok(()),
        (Err(_), _) => Err(format!("{ip:?} is neither an IP address nor a host name")),
    }
}

/// A DNS name made of dot-separated labels of ASCII letters, digits and `-`.
fn is_host_name(s: &str) -> bool {
    s.len() <= 253
        && s.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests;

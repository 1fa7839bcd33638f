//! The configuration's defaults, validation and file formats.

use super::*;

fn invalid_field(config: &PeerConfig) -> &'static str {
    match config.validate() {
        Err(ConfigError::Invalid { field, .. }) => field,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

fn custom() -> PeerConfig {
    PeerConfig {
        network: Network::Tcp6,
        local_ip: "::1".to_owned(),
        listen_port: 9090,
        redial_times: -1,
        redial_interval: Duration::from_millis(100),
        default_session_age: Duration::from_secs(90),
        call_timeout: Duration::from_secs(5),
        default_body_codec: "protobuf".to_owned(),
        print_detail: true,
        ..PeerConfig::default()
    }
}

#[test]
fn defaults() {
    let c = PeerConfig::default();
    assert_eq!(c.network, Network::Tcp);
    assert_eq!((c.local_ip.as_str(), c.listen_port, c.unix_path.as_ref()), ("0.0.0.0", 0, None));
    assert_eq!(c.default_dial_timeout, Duration::from_secs(10));
    assert_eq!((c.redial_times, c.redial_interval), (0, Duration::from_millis(100)));
    assert_eq!(c.redial_max_interval, Duration::from_secs(30));
    assert_eq!(c.default_body_codec, "json");
    assert!(c.default_session_age.is_zero() && c.default_context_age.is_zero());
    assert!(c.slow_comet_duration.is_zero() && !c.print_detail && !c.count_time);
    assert!(c.keepalive && c.no_delay);
    assert_eq!(c.keepalive_period, Duration::from_secs(60));
    assert_eq!((c.read_buffer_size, c.write_buffer_size), (0, 0));
    assert_eq!(c.limits(), Limits::default());
    assert_eq!((c.max_frame, c.max_meta), (4 << 20, 16 << 10));
    assert_eq!(c.call_timeout, Duration::from_secs(10));
    assert_eq!(
        (c.frame_read_timeout, c.write_timeout),
        (Duration::from_secs(10), Duration::from_secs(10))
    );
    assert_eq!((c.max_in_flight_handlers, c.max_outbound_bytes), (1024, 8 << 20));
    assert_eq!(c.listen_backlog, 1024);
    assert_eq!((c.max_outbound_bytes_total, c.default_push_policy), (256 << 20, PushPolicy::Wait));
    c.validate_listen().unwrap();
    assert_eq!(c.listen_addr().as_deref(), Some("0.0.0.0:0"));
}

#[test]
fn empty_documents_are_defaults() {
    assert_eq!(PeerConfig::from_toml_str("").unwrap(), PeerConfig::default());
    assert_eq!(PeerConfig::from_yaml_str("{}").unwrap(), PeerConfig::default());
}

#[test]
fn toml_round_trip() {
    let text = toml::to_string(&custom()).unwrap();
    assert!(text.contains("call_timeout = \"5s\""), "{text}");
    assert!(text.contains("redial_interval = \"100ms\""), "{text}");
    assert!(text.contains("network = \"tcp6\""), "{text}");
    assert_eq!(PeerConfig::from_toml_str(&text).unwrap(), custom());
}

#[test]
fn yaml_round_trip() {
    let text = serde_norway::to_string(&custom()).unwrap();
    assert!(text.contains("call_timeout: 5s"), "{text}");
    assert!(text.contains("redial_interval: 100ms"), "{text}");
    assert_eq!(PeerConfig::from_yaml_str(&text).unwrap(), custom());
}

#[test]
fn durations_are_human_strings() {
    let c = PeerConfig::from_toml_str(
        "call_timeout = \"1m30s\"\nwrite_timeout = \"1m 30s\"\nredial_interval = \"250ms\"\n\
         slow_comet_duration = \"0s\"\ndial_timeout = \"3s\"",
    )
    .unwrap();
    assert_eq!(
        (c.call_timeout, c.write_timeout),
        (Duration::from_secs(90), Duration::from_secs(90))
    );
    assert_eq!(c.redial_interval, Duration::from_millis(250));
    assert_eq!(c.default_dial_timeout, Duration::from_secs(3));
    let c = PeerConfig::from_yaml_str("network: unix\nunix_path: /tmp/tp.sock\ncall_timeout: 2h\n")
        .unwrap();
    assert_eq!(c.call_timeout, Duration::from_secs(7200));
    assert_eq!(c.listen_addr(), None);
    c.validate_listen().unwrap();
}

#[test]
fn every_network_has_its_name() {
    for network in [
        Network::Tcp,
        Network::Tcp4,
        Network::Tcp6,
        Network::Unix,
        Network::Unixpacket,
        Network::Tls,
        Network::Quic,
        Network::Ws,
        Network::Wss,
        Network::Kcp,
    ] {
        let text = format!("network = \"{network}\"");
        assert_eq!(PeerConfig::from_toml_str(&text).unwrap().network, network, "{text}");
    }
    for alias in ["udp", "udp4", "udp6"] {
        let text = format!("network = \"{alias}\"");
        assert_eq!(PeerConfig::from_toml_str(&text).unwrap().network, Network::Kcp, "{text}");
    }
}

#[test]
fn unknown_keys_are_rejected() {
    let err = PeerConfig::from_toml_str("listen_prot = 80").unwrap_err();
    assert!(matches!(&err, ConfigError::Parse { format: "TOML", .. }), "{err:?}");
    assert!(err.to_string().contains("listen_prot"), "{err}");
    let err = PeerConfig::from_yaml_str("listen_prot: 80").unwrap_err();
    assert!(err.to_string().contains("listen_prot"), "{err}");
}

#[test]
fn bad_values_are_rejected() {
    for text in [
        "call_timeout = \"5 parsecs\"",
        "call_timeout = 5",
        "call_timeout = \"-1s\"",
        "network = \"sctp\"",
        "network = \"TCP\"",
        "listen_port = 70000",
    ] {
        let err = PeerConfig::from_toml_str(text).unwrap_err();
        assert!(matches!(err, ConfigError::Parse { .. }), "{text}: {err:?}");
    }
    let err = PeerConfig::from_yaml_str("call_timeout: 5 parsecs").unwrap_err();
    assert!(matches!(err, ConfigError::Parse { format: "YAML", .. }), "{err:?}");
}

#[test]
fn validate_rejects_nonsense() {
    let base = PeerConfig::default;
    let cases: Vec<(PeerConfig, &str)> = vec![
        (PeerConfig { max_frame: 63, ..base() }, "max_frame"),
        (PeerConfig { max_meta: 65_536, ..base() }, "max_meta"),
        (PeerConfig { max_in_flight_handlers: 0, ..base() }, "max_in_flight_handlers"),
        (PeerConfig { listen_backlog: 0, ..base() }, "listen_backlog"),
        (PeerConfig { max_outbound_bytes_total: 100, ..base() }, "max_outbound_bytes_total"),
        (PeerConfig { max_outbound_bytes: (4 << 20) - 1, ..base() }, "max_outbound_bytes"),
        (PeerConfig { call_timeout: Duration::ZERO, ..base() }, "call_timeout"),
        (PeerConfig { frame_read_timeout: Duration::ZERO, ..base() }, "frame_read_timeout"),
        (PeerConfig { write_timeout: Duration::ZERO, ..base() }, "write_timeout"),
        (PeerConfig { default_dial_timeout: Duration::ZERO, ..base() }, "default_dial_timeout"),
        (PeerConfig { keepalive_period: Duration::ZERO, ..base() }, "keepalive_period"),
        (PeerConfig { call_timeout: Duration::MAX, ..base() }, "call_timeout"),
        (
            PeerConfig { redial_times: 3, redial_interval: Duration::ZERO, ..base() },
            "redial_interval",
        ),
        (
            PeerConfig {
                redial_times: -1,
                redial_max_interval: Duration::from_millis(50),
                ..base()
            },
            "redial_max_interval",
        ),
        (PeerConfig { default_body_codec: String::new(), ..base() }, "default_body_codec"),
        (PeerConfig { local_ip: "not an ip!".to_owned(), ..base() }, "local_ip"),
        (PeerConfig { local_ip: "[::1]".to_owned(), ..base() }, "local_ip"),
        (PeerConfig { network: Network::Tcp4, local_ip: "::".to_owned(), ..base() }, "local_ip"),
        (
            PeerConfig { network: Network::Tcp6, local_ip: "10.0.0.1".to_owned(), ..base() },
            "local_ip",
        ),
        (PeerConfig { unix_path: Some(PathBuf::new()), ..base() }, "unix_path"),
        (PeerConfig { read_buffer_size: 1 << 31, ..base() }, "read_buffer_size"),
    ];
    for (config, field) in &cases {
        assert_eq!(invalid_field(config), *field, "{config:?}");
    }
    #[cfg(target_pointer_width = "64")]
    assert_eq!(invalid_field(&PeerConfig { max_frame: 1 << 32, ..base() }), "max_frame");
    let err = PeerConfig::from_toml_str("max_meta = 70000").unwrap_err();
    assert_eq!(err.to_string(), "invalid max_meta: must be at most 65535 bytes, the field's width");
}

#[test]
fn lenient_where_go_is() {
    // Zero durations that mean "off", no redial with a zero interval, host names.
    let c = PeerConfig {
        redial_interval: Duration::ZERO,
        keepalive: false,
        keepalive_period: Duration::ZERO,
        local_ip: "localhost".to_owned(),
        ..PeerConfig::default()
    };
    c.validate().unwrap();
    for network in [Network::Unix, Network::Unixpacket] {
        let unix = PeerConfig { network, ..PeerConfig::default() };
        unix.validate().unwrap();
        assert_eq!(
            unix.validate_listen().map_err(|e| e.to_string()).unwrap_err(),
            "invalid unix_path: listening on a unix network needs a socket path"
        );
        assert_eq!(unix.listen_addr(), None);
    }
}

#[test]
fn listen_addrs() {
    let addr = |network, local_ip: &str, listen_port| {
        PeerConfig { network, local_ip: local_ip.to_owned(), listen_port, ..PeerConfig::default() }
            .listen_addr()
    };
    assert_eq!(addr(Network::Tcp, "0.0.0.0", 0).as_deref(), Some("0.0.0.0:0"));
    assert_eq!(addr(Network::Tcp4, "", 9090).as_deref(), Some("0.0.0.0:9090"));
    assert_eq!(addr(Network::Tcp6, "0.0.0.0", 0).as_deref(), Some("[::]:0"));
    assert_eq!(addr(Network::Tcp6, "", 1).as_deref(), Some("[::]:1"));
    assert_eq!(addr(Network::Tcp6, "::1", 8080).as_deref(), Some("[::1]:8080"));
    assert_eq!(addr(Network::Tcp, "localhost", 80).as_deref(), Some("localhost:80"));
    assert_eq!(addr(Network::Unix, "0.0.0.0", 80), None);
    assert_eq!(Network::Tcp6.to_string(), "tcp6");
    assert_eq!(addr(Network::Quic, "127.0.0.1", 9).as_deref(), Some("127.0.0.1:9"));
    assert_eq!(addr(Network::Wss, "", 443).as_deref(), Some("0.0.0.0:443"));
}

#[test]
fn from_file_by_extension() {
    let dir = std::env::temp_dir().join(format!("teleport-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let toml_path = dir.join("peer.TOML");
    std::fs::write(&toml_path, "listen_port = 9090\n").unwrap();
    let yaml_path = dir.join("peer.yml");
    std::fs::write(&yaml_path, "listen_port: 9091\ncall_timeout: 100ms\n").unwrap();

    assert_eq!(PeerConfig::from_file(&toml_path).unwrap().listen_port, 9090);
    let yaml = PeerConfig::from_file(&yaml_path).unwrap();
    assert_eq!((yaml.listen_port, yaml.call_timeout), (9091, Duration::from_millis(100)));
    let err = PeerConfig::from_file(dir.join("peer.json")).unwrap_err();
    assert!(matches!(err, ConfigError::UnsupportedFormat(_)), "{err:?}");
    let err = PeerConfig::from_file(dir.join("missing.yaml")).unwrap_err();
    assert!(matches!(err, ConfigError::Io { .. }), "{err:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

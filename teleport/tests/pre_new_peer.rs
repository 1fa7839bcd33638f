//! The `pre_new_peer` hook: a plugin sees and may change the configuration before the peer
//! is built; a refusal aborts the build with the plugin's status.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use teleport::peer::ConfigError;
use teleport::plugin::HookResult;
use teleport::{Peer, PeerConfig, Plugin, Status};

struct SetCodec(&'static str);

impl Plugin for SetCodec {
    fn name(&self) -> &str {
        "set-codec"
    }
    fn pre_new_peer(&self, config: &mut PeerConfig) -> HookResult {
        config.default_body_codec = self.0.to_owned();
        config.call_timeout = Duration::from_secs(3);
        Ok(())
    }
}

struct Refuse;

impl Plugin for Refuse {
    fn name(&self) -> &str {
        "refuse"
    }
    fn pre_new_peer(&self, _: &mut PeerConfig) -> HookResult {
        Err(Status::new(1001, "no peers today"))
    }
}

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Plugin for Seen {
    fn name(&self) -> &str {
        "seen"
    }
    fn pre_new_peer(&self, config: &mut PeerConfig) -> HookResult {
        self.0.lock().push(format!("pre {}", config.default_body_codec));
        Ok(())
    }
    fn post_new_peer(&self, peer: &Peer) -> HookResult {
        self.0.lock().push(format!("post {}", peer.config().default_body_codec));
        Ok(())
    }
}

#[test]
fn the_peer_is_built_from_the_changed_config() {
    let peer = Peer::builder(PeerConfig::default()).plugin(SetCodec("plain")).build().unwrap();
    assert_eq!(peer.config().default_body_codec, "plain");
    assert_eq!(peer.config().call_timeout, Duration::from_secs(3));
}

#[test]
fn hooks_run_in_order_and_before_post_new_peer() {
    let seen = Seen::default();
    Peer::builder(PeerConfig::default())
        .plugin(seen.clone())
        .plugin(SetCodec("form"))
        .plugin(seen.clone())
        .build()
        .unwrap();
    assert_eq!(*seen.0.lock(), ["pre json", "pre form", "post form", "post form"]);
}

#[test]
fn a_refusal_aborts_the_build_with_its_status() {
    let seen = Seen::default();
    let built = Peer::builder(PeerConfig::default()).plugin(Refuse).plugin(seen.clone()).build();
    let Err(err) = built else { panic!("the build is refused") };
    match &err {
        ConfigError::Refused { plugin, status } => {
            assert_eq!(plugin, "refuse");
            assert_eq!(status.code(), 1001);
            assert_eq!(status.msg(), "no peers today");
        }
        other => panic!("unexpected error {other:?}"),
    }
    assert!(err.to_string().starts_with("plugin refuse refused the configuration"), "{err}");
    assert!(seen.0.lock().is_empty(), "later plugins do not run");
}

#[test]
fn the_changed_config_is_still_checked() {
    let built = Peer::builder(PeerConfig::default()).plugin(SetCodec("no-such-codec")).build();
    let Err(err) = built else { panic!("an unknown codec is refused") };
    assert!(matches!(err, ConfigError::Invalid { field: "default_body_codec", .. }), "{err:?}");
}

//! [`Instance`]: one server of a service, as a registry lists it.

use serde::{Deserialize, Serialize};

/// One server of a service: where to dial it and how.
///
/// A service is found by its name; its instances are told apart by their address, so one
/// address registers at most once per service.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instance {
    /// The service's name (`"math"`): what clients look up.
    pub service: String,
    /// Where to dial it: `host:port`, or a socket path on the `unix` network.
    pub addr: String,
    /// The network it listens on, as in `PeerConfig::network` (`"tcp"`, `"unix"`, ...).
    /// Default `"tcp"`.
    #[serde(default = "default_network")]
    pub network: String,
    /// The wire protocol its listener speaks (`"raw"`, `"json"`, ...). Default `"raw"`.
    #[serde(default = "default_protocol")]
    pub protocol: String,
    /// Its share of the load relative to the other instances, at least 1. Default 1.
    #[serde(default = "default_weight")]
    pub weight: u32,
}

fn default_network() -> String {
    "tcp".to_owned()
}

fn default_protocol() -> String {
    "raw".to_owned()
}

fn default_weight() -> u32 {
    1
}

/// Why an instance cannot be registered.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidInstance {
    /// The service name is empty or holds a `/` (it is a key segment in a registry).
    #[error("bad service name {0:?}: it must be non-empty and hold no '/'")]
    Service(String),
    /// The address is empty.
    #[error("the instance of {0:?} has an empty address")]
    Addr(String),
    /// The weight is 0.
    #[error("the instance {0} has weight 0; the least is 1")]
    Weight(String),
}

impl Instance {
    /// An instance of `service` at `addr` on TCP, raw protocol, weight 1.
    pub fn new(service: impl Into<String>, addr: impl Into<String>) -> Self {
        Instance {
            service: service.into(),
            addr: addr.into(),
            network: default_network(),
            protocol: default_protocol(),
            weight: default_weight(),
        }
    }

    /// Sets the network.
    pub fn network(mut self, network: impl Into<String>) -> Self {
        self.network = network.into();
        self
    }

    /// Sets the protocol.
    pub fn protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocol = protocol.into();
        self
    }

    /// Sets the weight (0 is refused when registering).
    pub fn weight(mut self, weight: u32) -> Self {
        self.weight = weight;
        self
    }

    /// Checks what a registry relies on: a service name usable as a key segment, an
    /// address, a weight of at least 1.
    pub fn validate(&self) -> Result<(), InvalidInstance> {
        check_service(&self.service)?;
        if self.addr.is_empty() {
            return Err(InvalidInstance::Addr(self.service.clone()));
        }
        if self.weight == 0 {
            return Err(InvalidInstance::Weight(format!("{}@{}", self.service, self.addr)));
        }
        Ok(())
    }
}

/// Checks a service name: non-empty, without `/`.
pub(crate) fn check_service(service: &str) -> Result<(), InvalidInstance> {
    if service.is_empty() || service.contains('/') {
        return Err(InvalidInstance::Service(service.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_missing_fields() {
        let json = r#"{"service":"math","addr":"127.0.0.1:9090"}"#;
        let instance: Instance = serde_json::from_str(json).unwrap();
        assert_eq!(instance, Instance::new("math", "127.0.0.1:9090"));
        assert_eq!((instance.network.as_str(), instance.protocol.as_str()), ("tcp", "raw"));
    }

    #[test]
    fn bad_instances_are_refused() {
        assert!(Instance::new("", "a:1").validate().is_err());
        assert!(Instance::new("a/b", "a:1").validate().is_err());
        assert!(Instance::new("math", "").validate().is_err());
        assert!(Instance::new("math", "a:1").weight(0).validate().is_err());
        assert!(Instance::new("math", "a:1").weight(3).validate().is_ok());
    }
}

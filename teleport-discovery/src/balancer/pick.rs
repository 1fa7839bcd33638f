//! How a balanced call picks its instance: the policies, the hash ring, a small PRNG.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::endpoint::Endpoint;

/// How a [`Balancer`](super::Balancer) spreads calls over a service's instances.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Policy {
    /// Power of two choices (the default): of two instances drawn at random, the one with
    /// fewer calls in flight per unit of weight.
    #[default]
    PowerOfTwo,
    /// Each instance in turn (weights are not used).
    RoundRobin,
    /// The same key always goes to the same instance while it is there (a hash ring with
    /// virtual nodes in proportion to weight); when instances come and go, only the keys
    /// of the ring's changed arcs move. Calls without a key are spread as `PowerOfTwo`.
    ConsistentHash(HashKey),
}

/// Where a consistent-hash key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HashKey {
    /// The value of this meta key, set with
    /// [`BalancedOptions::set_meta`](super::BalancedOptions::set_meta).
    Meta(String),
    /// The argument, encoded with the peer's default body codec.
    Argument,
}

/// Virtual nodes per unit of weight on the hash ring.
const VNODES_PER_WEIGHT: u32 = 64;
/// At most this many virtual nodes per instance, whatever its weight.
const MAX_VNODES: u32 = 64 * 100;

/// The instances as one pick sees them, with the hash ring built for them.
pub(crate) struct Snapshot {
    pub(crate) endpoints: Vec<Arc<Endpoint>>,
    /// Sorted points of the ring, each with the index of its endpoint.
    ring: Vec<(u64, usize)>,
}

impl Snapshot {
    pub(crate) fn new(endpoints: Vec<Arc<Endpoint>>, with_ring: bool) -> Self {
        let mut ring = Vec::new();
        if with_ring {
            for (index, endpoint) in endpoints.iter().enumerate() {
                let vnodes = endpoint.instance.weight.saturating_mul(VNODES_PER_WEIGHT);
                for vnode in 0..vnodes.min(MAX_VNODES) {
                    let point = hash(format!("{}#{vnode}", endpoint.instance.addr).as_bytes());
                    ring.push((point, index));
                }
            }
            ring.sort_unstable();
        }
        Snapshot { endpoints, ring }
    }
}

/// Picks among a snapshot's usable endpoints.
pub(crate) struct Picker {
    rr: AtomicUsize,
    rng: AtomicU64,
}

impl Picker {
    pub(crate) fn new(seed: u64) -> Self {
        Picker { rr: AtomicUsize::new(0), rng: AtomicU64::new(seed) }
    }

    /// The endpoint for one attempt: among those not ejected and not `exclude`, or, when
    /// every other one is ejected, among the ejected ones (an outage of all must not wait
    /// out its backoff).
    pub(crate) fn pick(
        &self,
        snapshot: &Snapshot,
        policy: &Policy,
        key: Option<u64>,
        exclude: Option<&Arc<Endpoint>>,
    ) -> Option<Arc<Endpoint>> {
        let allowed = |e: &Arc<Endpoint>| exclude.is_none_or(|x| !Arc::ptr_eq(x, e));
        let healthy = |e: &Arc<Endpoint>| allowed(e) && !e.is_ejected();
        let usable: &dyn Fn(&Arc<Endpoint>) -> bool =
            if snapshot.endpoints.iter().any(healthy) { &healthy } else { &allowed };
        if let (Policy::ConsistentHash(_), Some(key)) = (policy, key) {
            return self.on_ring(snapshot, key, usable);
        }
        let candidates: Vec<&Arc<Endpoint>> =
            snapshot.endpoints.iter().filter(|e| usable(e)).collect();
        match (policy, candidates.len()) {
            (_, 0) => None,
            (_, 1) => Some(candidates[0].clone()),
            (Policy::RoundRobin, n) => {
                Some(candidates[self.rr.fetch_add(1, Ordering::Relaxed) % n].clone())
            }
            (_, n) => Some(self.two_choices(&candidates, n)),
        }
    }

    fn two_choices(&self, candidates: &[&Arc<Endpoint>], n: usize) -> Arc<Endpoint> {
        let r = self.next();
        let first = (r % n as u64) as usize;
        // A second index drawn from the n - 1 others, so the two always differ.
        let second = (first + 1 + ((r >> 32) % (n as u64 - 1)) as usize) % n;
        let (a, b) = (candidates[first], candidates[second]);
        // Load per unit of weight, compared without division.
        let load_a = a.in_flight() as u64 * u64::from(b.instance.weight);
        let load_b = b.in_flight() as u64 * u64::from(a.instance.weight);
        if load_a <= load_b { a.clone() } else { b.clone() }
    }

    fn on_ring(
        &self,
        snapshot: &Snapshot,
        key: u64,
        usable: &dyn Fn(&Arc<Endpoint>) -> bool,
    ) -> Option<Arc<Endpoint>> {
        let ring = &snapshot.ring;
        let start = ring.partition_point(|(point, _)| *point < key);
        (0..ring.len())
            .map(|i| &snapshot.endpoints[ring[(start + i) % ring.len()].1])
            .find(|e| usable(e))
            .cloned()
    }

    /// splitmix64: a shared counter, so concurrent callers draw different numbers.
    fn next(&self) -> u64 {
        let x = self.rng.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        mix(x.wrapping_add(0x9E37_79B9_7F4A_7C15))
    }
}

/// FNV-1a, then a final mix so that near keys land far apart on the ring. Stable across
/// processes and versions: the same key picks the same instance in every client.
pub(crate) fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        h ^= u64::from(*byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix(h)
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use teleport::pool::{PoolConfig, SessionPool};
    use teleport::{Peer, PeerConfig};

    use super::*;
    use crate::Instance;

    fn endpoints(weights: &[u32]) -> Vec<Arc<Endpoint>> {
        let peer = Peer::new(PeerConfig::default()).unwrap();
        let idle = PoolConfig { idle_timeout: std::time::Duration::ZERO, ..PoolConfig::default() };
        weights
            .iter()
            .enumerate()
            .map(|(i, &weight)| {
                let addr = format!("127.0.0.1:{}", 7000 + i);
                let pool = SessionPool::new(peer.clone(), addr.clone(), idle.clone());
                Arc::new(Endpoint::new(Instance::new("svc", addr).weight(weight), pool))
            })
            .collect()
    }

    fn index_of(snapshot: &Snapshot, picked: &Arc<Endpoint>) -> usize {
        snapshot.endpoints.iter().position(|e| Arc::ptr_eq(e, picked)).unwrap()
    }

    #[tokio::test]
    async fn round_robin_takes_each_in_turn() {
        let snapshot = Snapshot::new(endpoints(&[1, 1, 1]), false);
        let picker = Picker::new(1);
        let picks: Vec<usize> = (0..6)
            .map(|_| {
                index_of(
                    &snapshot,
                    &picker.pick(&snapshot, &Policy::RoundRobin, None, None).unwrap(),
                )
            })
            .collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
    }

    #[tokio::test]
    async fn two_choices_prefer_the_less_loaded_per_weight() {
        let snapshot = Snapshot::new(endpoints(&[1, 1]), false);
        let _busy = snapshot.endpoints[0].start();
        let picker = Picker::new(7);
        for _ in 0..20 {
            let picked = picker.pick(&snapshot, &Policy::PowerOfTwo, None, None).unwrap();
            assert_eq!(index_of(&snapshot, &picked), 1);
        }
        // Twice the weight takes twice the load before it loses a tie.
        let snapshot = Snapshot::new(endpoints(&[2, 1]), false);
        let _one = snapshot.endpoints[0].start();
        let picked = picker.pick(&snapshot, &Policy::PowerOfTwo, None, None).unwrap();
        assert_eq!(index_of(&snapshot, &picked), 1);
        let _two = snapshot.endpoints[1].start();
        let picked = picker.pick(&snapshot, &Policy::PowerOfTwo, None, None).unwrap();
        assert_eq!(index_of(&snapshot, &picked), 0);
    }

    #[tokio::test]
    async fn a_key_stays_put_and_only_its_arc_moves_when_an_instance_leaves() {
        let all = endpoints(&[1, 1, 1, 1]);
        let policy = Policy::ConsistentHash(HashKey::Argument);
        let picker = Picker::new(3);
        let full = Snapshot::new(all.clone(), true);
        let less = Snapshot::new(all[..3].to_vec(), true);
        let mut moved = 0;
        for key in 0..1000u64 {
            let key = hash(&key.to_le_bytes());
            let before = picker.pick(&full, &policy, Some(key), None).unwrap();
            let again = picker.pick(&full, &policy, Some(key), None).unwrap();
            assert!(Arc::ptr_eq(&before, &again));
            let after = picker.pick(&less, &policy, Some(key), None).unwrap();
            if !Arc::ptr_eq(&before, &after) {
                // Only keys of the instance that left move.
                assert!(Arc::ptr_eq(&before, &all[3]));
                moved += 1;
            }
        }
        assert!((100..400).contains(&moved), "{moved} of 1000 keys moved");
    }

    #[tokio::test]
    async fn excluded_and_ejected_instances_are_skipped() {
        let snapshot = Snapshot::new(endpoints(&[1, 1]), false);
        let picker = Picker::new(5);
        let first = snapshot.endpoints[0].clone();
        for _ in 0..10 {
            let picked = picker.pick(&snapshot, &Policy::PowerOfTwo, None, Some(&first)).unwrap();
            assert_eq!(index_of(&snapshot, &picked), 1);
        }
        let one = Snapshot::new(vec![first.clone()], false);
        assert!(picker.pick(&one, &Policy::PowerOfTwo, None, Some(&first)).is_none());
        assert!(
            picker
                .pick(&Snapshot::new(Vec::new(), false), &Policy::RoundRobin, None, None)
                .is_none()
        );
    }
}

// The client type and the Service impl are still emitted: only the real mistake shows.
use teleport as tp;
struct Svc;
#[tp::service]
impl Svc {
    fn pair(&self, _a: i64, _b: i64) {}
}
#[tp::service]
trait Api {
    fn pair(&self, _a: i64, _b: i64);
}
fn main() {
    let peer = tp::Peer::new(tp::PeerConfig::default()).unwrap();
    peer.route(Svc);
    let _ = SvcClient;
    let _ = ApiClient;
    struct Imp;
    impl Api for Imp {
        fn pair(&self, _a: i64, _b: i64) {}
    }
    peer.route(ApiServer::new(Imp));
}

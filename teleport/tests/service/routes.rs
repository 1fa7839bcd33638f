//! Generated routes and stubs over loopback, in both directions, and against hand routing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use teleport as tp;
use tokio::sync::mpsc;

fn config() -> tp::PeerConfig {
    tp::PeerConfig { local_ip: "127.0.0.1".into(), ..tp::PeerConfig::default() }
}

/// A service with state, every accepted signature shape and a push.
struct Math {
    calls: AtomicUsize,
    notes: mpsc::UnboundedSender<String>,
}

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq, Clone)]
struct Pair {
    a: i64,
    b: i64,
}

#[tp::service]
impl Math {
    /// Sums the numbers; echoes the `author` meta or query.
    async fn add(&self, ctx: &tp::CallCtx, nums: Vec<i64>) -> Result<i64, tp::Status> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let author = ctx.input_meta().get("author").map(str::to_owned);
        let author = author.or_else(|| ctx.query().ok()?.get("author").map(str::to_owned));
        if let Some(author) = author {
            ctx.set_meta("echo-author", author);
        }
        Ok(nums.iter().sum())
    }

    /// Sync, no context, plain return.
    fn mul(&self, pair: Pair) -> i64 {
        pair.a * pair.b
    }

    /// Sync with a context: an error status, or the quotient with the divisor in meta.
    fn div(&self, ctx: &tp::CallCtx, pair: Pair) -> Result<i64, tp::Status> {
        if pair.b == 0 {
            return Err(tp::Status::new(10010, "division by zero"));
        }
        ctx.set_meta("divisor", pair.b.to_string());
        Ok(pair.a / pair.b)
    }

    /// No argument.
    async fn count(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// An error with a custom code.
    async fn fail(&self, code: i32) -> Result<(), tp::Status> {
        Err(tp::Status::new(code, "custom").cause("asked for it"))
    }

    #[tp(push)]
    async fn notify(&self, ctx: &tp::PushCtx, text: String) {
        let _ = self.notes.send(format!("{} {text}", ctx.path()));
    }

    /// A sync push.
    #[tp(push)]
    fn log(&self, ctx: &tp::PushCtx, text: String) {
        let _ = self.notes.send(format!("sync {} {text}", ctx.path()));
    }

    #[tp(skip)]
    #[allow(dead_code)]
    fn helper(self) -> Self {
        self
    }
}

/// Served by the client peer: the server calls it over the session it accepted.
struct Clock;

#[tp::service(mapper = "rpc")]
impl Clock {
    fn now(&self) -> String {
        "noon".to_owned()
    }
}

fn math() -> (Math, mpsc::UnboundedReceiver<String>) {
    let (notes, rx) = mpsc::unbounded_channel();
    (Math { calls: AtomicUsize::new(0), notes }, rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_generated_route_answers_both_ways() {
    let (service, mut notes) = math();
    let server = tp::Peer::new(config()).unwrap();
    server.route(service);
    assert_eq!(
        server.call_routes(),
        ["/math/add", "/math/count", "/math/div", "/math/fail", "/math/mul"]
    );
    assert_eq!(server.push_routes(), ["/math/log", "/math/notify"]);
    let addr = server.listen().await.unwrap();

    let client = tp::Peer::new(config()).unwrap();
    client.route(Clock);
    let session = client.dial(&addr.to_string()).await.unwrap();

    assert_eq!(MathClient::add(&session, &vec![1, 2, 3, 4, 5]).await.unwrap(), 15);
    let options = tp::CallOptions::new().set_meta("author", "x");
    let reply = MathClient::add_with(&session, &vec![1], &options).await.unwrap();
    assert_eq!(reply.meta.get("echo-author"), Some("x"));
    assert_eq!(MathClient::mul(&session, &Pair { a: 6, b: 7 }).await.unwrap(), 42);
    assert_eq!(MathClient::count(&session).await.unwrap(), 2);
    let err = MathClient::fail(&session, &10005).await.unwrap_err();
    assert_eq!((err.code(), err.msg(), err.cause_text()), (10005, "custom", Some("asked for it")));
    MathClient::notify(&session, &"hi".to_owned()).await.unwrap();
    assert_eq!(notes.recv().await.unwrap(), "/math/notify hi");
    let reply = MathClient::div_with(&session, &Pair { a: 42, b: 5 }, &tp::CallOptions::new())
        .await
        .unwrap();
    assert_eq!((reply.value, reply.meta.get("divisor")), (8, Some("5")));
    let err = MathClient::div(&session, &Pair { a: 1, b: 0 }).await.unwrap_err();
    assert_eq!((err.code(), err.msg()), (10010, "division by zero"));
    MathClient::log(&session, &"there".to_owned()).await.unwrap();
    assert_eq!(notes.recv().await.unwrap(), "sync /math/log there");

    // The other direction: the server calls the client's service.
    let accepted = server.sessions().pop().unwrap();
    assert_eq!(ClockClient::now(&accepted).await.unwrap(), "noon");
    assert_eq!(ClockClient::NOW, "Clock.Now");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stubs_talk_to_hand_routed_servers_and_back() {
    // A hand-routed server answers the generated stub: the names agree.
    let server = tp::Peer::new(config()).unwrap();
    server.route_call_fn("/math/add", |_ctx: tp::CallCtx, nums: Vec<i64>| async move {
        Ok::<_, tp::Status>(nums.iter().sum::<i64>() * 10)
    });
    let addr = server.listen().await.unwrap();
    let client = tp::Peer::new(config()).unwrap();
    let session = client.dial(&addr.to_string()).await.unwrap();
    assert_eq!(MathClient::add(&session, &vec![1, 2]).await.unwrap(), 30);

    // A hand-written call reaches a generated route, query included.
    let (service, _notes) = math();
    let macro_server = tp::Peer::new(config()).unwrap();
    macro_server.route(service);
    let addr = macro_server.listen().await.unwrap();
    let session = client.dial(&addr.to_string()).await.unwrap();
    let reply = session
        .call_with::<i64>("/math/add?author=q", &[4, 5], &tp::CallOptions::new())
        .await
        .unwrap();
    assert_eq!((reply.value, reply.meta.get("echo-author")), (9, Some("q")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_register_under_a_group_prefix() {
    let (service, _notes) = math();
    let server = tp::Peer::new(config()).unwrap();
    server.group("/v2", Vec::new()).route_arc(Arc::new(service));
    assert!(server.call_routes().contains(&"/v2/math/add".to_owned()));
    let addr = server.listen().await.unwrap();
    let client = tp::Peer::new(config()).unwrap();
    let session = client.dial(&addr.to_string()).await.unwrap();
    let sum: i64 = session.call("/v2/math/add", &[1, 1]).await.unwrap();
    assert_eq!(sum, 2);
}

//! Generated routes and stubs over loopback, in both directions and against hand routing,
//! for both forms of `#[tp::service]`: the same table of tests runs over an impl block
//! (`inherent`) and over a contract trait with an implementation (`contract`).

use std::sync::atomic::{AtomicUsize, Ordering};

use teleport as tp;
use tokio::sync::mpsc;

fn config() -> tp::PeerConfig {
    tp::PeerConfig { local_ip: "127.0.0.1".into(), ..tp::PeerConfig::default() }
}

#[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq, Clone)]
pub(crate) struct Pair {
    a: i64,
    b: i64,
}

/// What both forms of the service do; each form's methods call into it.
pub(crate) struct State {
    calls: AtomicUsize,
    notes: mpsc::UnboundedSender<String>,
}

impl State {
    fn new() -> (State, mpsc::UnboundedReceiver<String>) {
        let (notes, rx) = mpsc::unbounded_channel();
        (State { calls: AtomicUsize::new(0), notes }, rx)
    }

    fn add(&self, ctx: &tp::CallCtx, nums: &[i64]) -> i64 {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let author = ctx.input_meta().get("author").map(str::to_owned);
        let author = author.or_else(|| ctx.query().ok()?.get("author").map(str::to_owned));
        if let Some(author) = author {
            ctx.set_meta("echo-author", author);
        }
        nums.iter().sum()
    }

    fn div(ctx: &tp::CallCtx, pair: &Pair) -> Result<i64, tp::Status> {
        if pair.b == 0 {
            return Err(tp::Status::new(10010, "division by zero"));
        }
        ctx.set_meta("divisor", pair.b.to_string());
        Ok(pair.a / pair.b)
    }

    fn note(&self, text: String) {
        let _ = self.notes.send(text);
    }

    /// Waits on the runtime from the calling thread: allowed on the blocking pool only (a
    /// runtime thread would panic), so it tells where a `#[tp(blocking)]` method runs.
    fn block_on_runtime(n: u64) -> u64 {
        tokio::runtime::Handle::current().block_on(async move {
            tokio::task::yield_now().await;
            n * 2
        })
    }
}

/// The tests, run once per form. Each form provides `MathClient`, `ClockClient`,
/// `math_service()` and `clock_service()`.
macro_rules! route_tests {
    () => {
        use std::sync::Arc;

        use super::{Pair, config, tp};

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn every_generated_route_answers_both_ways() {
            let (service, mut notes) = math_service();
            let server = tp::Peer::new(config()).unwrap();
            server.route(service);
            assert_eq!(
                server.call_routes(),
                ["/math/add", "/math/block", "/math/count", "/math/div", "/math/fail", "/math/mul"]
            );
            assert_eq!(server.push_routes(), ["/math/archive", "/math/log", "/math/notify"]);
            assert_eq!(MathClient::IDEMPOTENT_ROUTES, ["/math/add", "/math/mul"]);
            assert!(ClockClient::IDEMPOTENT_ROUTES.is_empty());
            let addr = server.listen().await.unwrap();

            let client = tp::Peer::new(config()).unwrap();
            client.route(clock_service());
            let session = client.dial(&addr.to_string()).await.unwrap();

            // The borrowed forms: `&[T; N]`, `&[T]` and `&Vec<T>` for a `Vec<T>`.
            assert_eq!(MathClient::add(&session, &[1, 2, 3, 4, 5]).await.unwrap(), 15);
            assert_eq!(MathClient::add(&session, &[1, 2][..]).await.unwrap(), 3);
            assert_eq!(MathClient::add(&session, &vec![4]).await.unwrap(), 4);
            let options = tp::CallOptions::new().set_meta("author", "x");
            let reply = MathClient::add_with(&session, &[1], &options).await.unwrap();
            assert_eq!(reply.meta.get("echo-author"), Some("x"));
            assert_eq!(MathClient::mul(&session, &Pair { a: 6, b: 7 }).await.unwrap(), 42);
            assert_eq!(MathClient::count(&session).await.unwrap(), 4);
            let err = MathClient::fail(&session, &10005).await.unwrap_err();
            assert_eq!(
                (err.code(), err.msg(), err.cause_text()),
                (10005, "custom", Some("asked for it"))
            );
            MathClient::notify(&session, "hi").await.unwrap();
            assert_eq!(notes.recv().await.unwrap(), "/math/notify hi");
            let reply = MathClient::div_reply(&session, &Pair { a: 42, b: 5 }).await.unwrap();
            assert_eq!((reply.value, reply.meta.get("divisor")), (8, Some("5")));
            let err = MathClient::div(&session, &Pair { a: 1, b: 0 }).await.unwrap_err();
            assert_eq!((err.code(), err.msg()), (10010, "division by zero"));
            MathClient::log(&session, &"there".to_owned()).await.unwrap();
            assert_eq!(notes.recv().await.unwrap(), "sync /math/log there");
            // `#[tp(blocking)]` methods run on the blocking pool.
            assert_eq!(MathClient::block(&session, &21).await.unwrap(), 42);
            MathClient::archive(&session, "it").await.unwrap();
            assert_eq!(notes.recv().await.unwrap(), "blocking /math/archive it 4");

            // The other direction: the server calls the client's service.
            let accepted = server.sessions().pop().unwrap();
            assert_eq!(ClockClient::now(&accepted, "utc").await.unwrap(), "noon utc");
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
            assert_eq!(MathClient::add(&session, &[1, 2]).await.unwrap(), 30);

            // A hand-written call reaches a generated route, query included.
            let (service, _notes) = math_service();
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
            let (service, _notes) = math_service();
            let server = tp::Peer::new(config()).unwrap();
            server.group("/v2", Vec::new()).route_arc(Arc::new(service));
            assert!(server.call_routes().contains(&"/v2/math/add".to_owned()));
            let addr = server.listen().await.unwrap();
            let client = tp::Peer::new(config()).unwrap();
            let session = client.dial(&addr.to_string()).await.unwrap();
            let sum: i64 = session.call("/v2/math/add", &[1, 1]).await.unwrap();
            assert_eq!(sum, 2);
        }
    };
}

/// The impl-block form.
mod inherent {
    use tokio::sync::mpsc;

    use super::State;

    /// A service with state, every accepted signature shape and a push.
    pub(crate) struct Math(pub(crate) State);

    #[tp::service]
    impl Math {
        /// Sums the numbers; echoes the `author` meta or query.
        #[tp(idempotent)]
        async fn add(&self, ctx: &tp::CallCtx, nums: Vec<i64>) -> Result<i64, tp::Status> {
            Ok(self.0.add(ctx, &nums))
        }

        /// Sync, no context, plain return.
        #[tp(idempotent)]
        fn mul(&self, pair: Pair) -> i64 {
            pair.a * pair.b
        }

        /// Sync with a context: an error status, or the quotient with the divisor in meta.
        fn div(&self, ctx: &tp::CallCtx, pair: Pair) -> Result<i64, tp::Status> {
            State::div(ctx, &pair)
        }

        /// No argument.
        async fn count(&self) -> usize {
            self.0.calls.load(Ordering::Relaxed)
        }

        /// An error with a custom code.
        async fn fail(&self, code: i32) -> Result<(), tp::Status> {
            Err(tp::Status::new(code, "custom").cause("asked for it"))
        }

        #[tp(push)]
        async fn notify(&self, ctx: &tp::PushCtx, text: String) {
            self.0.note(format!("{} {text}", ctx.path()));
        }

        /// A sync push.
        #[tp(push)]
        fn log(&self, ctx: &tp::PushCtx, text: String) {
            self.0.note(format!("sync {} {text}", ctx.path()));
        }

        /// On the blocking pool.
        #[tp(blocking)]
        fn block(&self, n: u64) -> u64 {
            State::block_on_runtime(n)
        }

        /// A push on the blocking pool.
        #[tp(push, blocking)]
        fn archive(&self, ctx: &tp::PushCtx, text: String) {
            let n = State::block_on_runtime(2);
            self.0.note(format!("blocking {} {text} {n}", ctx.path()));
        }

        #[tp(skip)]
        #[allow(dead_code)]
        fn helper(self) -> Self {
            self
        }
    }

    /// Served by the client peer: the server calls it over the session it accepted.
    pub(crate) struct Clock;

    #[tp::service(mapper = "rpc")]
    impl Clock {
        fn now(&self, zone: String) -> String {
            format!("noon {zone}")
        }
    }

    fn math_service() -> (Math, mpsc::UnboundedReceiver<String>) {
        let (state, rx) = State::new();
        (Math(state), rx)
    }

    fn clock_service() -> Clock {
        Clock
    }

    use std::sync::atomic::Ordering;
    route_tests!();
}

/// The contract form: traits, their implementations, and the generated servers.
mod contract {
    use tokio::sync::mpsc;

    use super::State;

    /// The same service as a contract.
    #[tp::service]
    pub(crate) trait Math {
        /// Sums the numbers; echoes the `author` meta or query.
        #[tp(idempotent)]
        async fn add(&self, ctx: &tp::CallCtx, nums: Vec<i64>) -> Result<i64, tp::Status>;

        /// Sync, no context, plain return; a default body.
        #[tp(idempotent)]
        fn mul(&self, pair: Pair) -> i64 {
            pair.a * pair.b
        }

        /// Sync with a context: an error status, or the quotient with the divisor in meta.
        fn div(&self, ctx: &tp::CallCtx, pair: Pair) -> Result<i64, tp::Status>;

        /// No argument.
        async fn count(&self) -> usize;

        /// An error with a custom code; an async default body.
        async fn fail(&self, code: i32) -> Result<(), tp::Status> {
            tokio::task::yield_now().await;
            Err(tp::Status::new(code, "custom").cause("asked for it"))
        }

        #[tp(push)]
        async fn notify(&self, ctx: &tp::PushCtx, text: String);

        /// A sync push.
        #[tp(push)]
        fn log(&self, ctx: &tp::PushCtx, text: String);

        /// On the blocking pool; a default body.
        #[tp(blocking)]
        fn block(&self, n: u64) -> u64 {
            State::block_on_runtime(n)
        }

        /// A push on the blocking pool.
        #[tp(push, blocking)]
        fn archive(&self, ctx: &tp::PushCtx, text: String);

        #[tp(skip)]
        fn helper(&self) -> i64 {
            1
        }
    }

    pub(crate) struct MathImpl(pub(crate) State);

    impl Math for MathImpl {
        async fn add(&self, ctx: &tp::CallCtx, nums: Vec<i64>) -> Result<i64, tp::Status> {
            tokio::task::yield_now().await;
            Ok(self.0.add(ctx, &nums))
        }

        fn div(&self, ctx: &tp::CallCtx, pair: Pair) -> Result<i64, tp::Status> {
            State::div(ctx, &pair)
        }

        async fn count(&self) -> usize {
            self.0.calls.load(Ordering::Relaxed)
        }

        async fn notify(&self, ctx: &tp::PushCtx, text: String) {
            self.0.note(format!("{} {text}", ctx.path()));
        }

        fn log(&self, ctx: &tp::PushCtx, text: String) {
            self.0.note(format!("sync {} {text}", ctx.path()));
        }

        fn archive(&self, ctx: &tp::PushCtx, text: String) {
            let n = State::block_on_runtime(2);
            self.0.note(format!("blocking {} {text} {n}", ctx.path()));
        }
    }

    #[tp::service(mapper = "rpc")]
    pub(crate) trait Clock {
        fn now(&self, zone: String) -> String;
    }

    struct Noon;

    impl Clock for Noon {
        fn now(&self, zone: String) -> String {
            format!("noon {zone}")
        }
    }

    fn math_service() -> (MathServer<MathImpl>, mpsc::UnboundedReceiver<String>) {
        let (state, rx) = State::new();
        assert_eq!(MathImpl(State::new().0).helper(), 1);
        (MathServer::new(MathImpl(state)), rx)
    }

    fn clock_service() -> ClockServer<impl Clock> {
        ClockServer::new(Noon)
    }

    use std::sync::atomic::Ordering;
    route_tests!();
}

/// The two forms make the same routes and understand each other's stubs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_two_forms_are_interchangeable() {
    let (state, _notes) = State::new();
    let by_trait = tp::Peer::new(config()).unwrap();
    by_trait.route(contract::MathServer::new(contract::MathImpl(state)));
    let (state, _notes) = State::new();
    let by_impl = tp::Peer::new(config()).unwrap();
    by_impl.route(inherent::Math(state));
    assert_eq!(by_trait.call_routes(), by_impl.call_routes());
    assert_eq!(by_trait.push_routes(), by_impl.push_routes());

    let client = tp::Peer::new(config()).unwrap();
    // `dial` takes what `listen` returns.
    let to_trait = client.dial(by_trait.listen().await.unwrap()).await.unwrap();
    let to_impl = client.dial(&by_impl.listen().await.unwrap()).await.unwrap();
    let options = tp::CallOptions::new().set_meta("author", "z");
    for session in [&to_trait, &to_impl] {
        let a = inherent::MathClient::add_with(session, &[1, 2], &options).await.unwrap();
        let b = contract::MathClient::add_with(session, &[1, 2], &options).await.unwrap();
        assert_eq!(a, b);
        assert_eq!((a.value, a.meta.get("echo-author")), (3, Some("z")));
    }
}

/// Records every frame a client writes and every reply it reads, encoded as the raw
/// protocol writes them.
#[derive(Clone, Default)]
struct Frames(std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>);

impl Frames {
    fn record(&self, msg: &tp::Message) {
        use tp::Proto;
        let mut wire = bytes::BytesMut::new();
        tp::RawProto::default().encode(msg, &mut wire).unwrap();
        self.0.lock().unwrap().push(wire.to_vec());
    }
}

impl tp::Plugin for Frames {
    fn name(&self) -> &str {
        "frames"
    }

    fn post_write_call(&self, _: &tp::Session, msg: &tp::Message) -> tp::plugin::HookResult {
        self.record(msg);
        Ok(())
    }

    fn post_write_push(&self, _: &tp::Session, msg: &tp::Message) -> tp::plugin::HookResult {
        self.record(msg);
        Ok(())
    }

    fn post_read_reply_header(
        &self,
        _: &tp::Session,
        msg: &mut tp::Message,
    ) -> tp::plugin::HookResult {
        self.record(msg);
        Ok(())
    }
}

/// The same calls through each form's stubs to each form's server: the frames written and
/// read, byte for byte, do not depend on the form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_two_forms_put_the_same_bytes_on_the_wire() {
    async fn traffic(by_trait: bool) -> Vec<Vec<u8>> {
        let (state, mut notes) = State::new();
        let server = tp::Peer::new(config()).unwrap();
        if by_trait {
            server.route(contract::MathServer::new(contract::MathImpl(state)));
        } else {
            server.route(inherent::Math(state));
        }
        let frames = Frames::default();
        let client = tp::Peer::builder(config()).plugin(frames.clone()).build().unwrap();
        let session = client.dial(server.listen().await.unwrap()).await.unwrap();
        let options = tp::CallOptions::new().set_meta("author", "w");
        let pair = Pair { a: 9, b: 3 };
        if by_trait {
            use contract::MathClient as C;
            C::add_with(&session, &[1, 2], &options).await.unwrap();
            C::div(&session, &pair).await.unwrap();
            C::div(&session, &Pair { a: 1, b: 0 }).await.unwrap_err();
            C::fail(&session, &7).await.unwrap_err();
            C::count(&session).await.unwrap();
            C::notify(&session, "n").await.unwrap();
        } else {
            use inherent::MathClient as C;
            C::add_with(&session, &[1, 2], &options).await.unwrap();
            C::div(&session, &pair).await.unwrap();
            C::div(&session, &Pair { a: 1, b: 0 }).await.unwrap_err();
            C::fail(&session, &7).await.unwrap_err();
            C::count(&session).await.unwrap();
            C::notify(&session, "n").await.unwrap();
        }
        assert_eq!(notes.recv().await.unwrap(), "/math/notify n");
        frames.0.lock().unwrap().clone()
    }
    let by_trait = traffic(true).await;
    assert_eq!(by_trait.len(), 11, "five calls, five replies, one push");
    assert_eq!(by_trait, traffic(false).await);
}

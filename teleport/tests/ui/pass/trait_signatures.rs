//! Every accepted method shape in the trait form, private and public traits, default
//! bodies, and the borrowed forms the stubs accept.

use teleport as tp;

#[derive(serde::Serialize, serde::Deserialize)]
pub struct Arg {
    n: i64,
}

#[derive(Debug)]
pub struct MyError;

impl From<MyError> for tp::Status {
    fn from(_: MyError) -> Self {
        tp::Status::new(1001, "mine")
    }
}

/// An alias named `Result`, as `anyhow::Result` is.
pub mod my {
    pub type Result<T> = std::result::Result<T, super::MyError>;
}

#[tp::service]
pub trait Svc {
    fn aliased(&self) -> my::Result<i64> {
        Ok(1)
    }
    async fn full(&self, ctx: &tp::CallCtx, arg: Arg) -> Result<i64, tp::Status>;
    async fn no_ctx(&self, arg: Vec<u8>) -> usize;
    fn sync_no_arg(&self) -> String;
    fn unit(&self) {}
    fn own_error(&self, n: i64) -> Result<i64, MyError>;
    async fn with_default(&self, key: String) -> String {
        tokio::task::yield_now().await;
        format!("{key}{}", self.helper())
    }
    #[tp(push)]
    async fn pushed(&self, ctx: &tp::PushCtx, arg: String);
    #[tp(push)]
    fn pushed_result(&self, _arg: i32) -> Result<(), tp::Status> {
        Ok(())
    }
    #[tp(route = "/custom")]
    fn renamed(&self) {}
    #[tp(skip)]
    fn helper(&self) -> i32 {
        1
    }
}

struct Imp {
    state: std::sync::Mutex<i64>,
}

impl Svc for Imp {
    async fn full(&self, _ctx: &tp::CallCtx, arg: Arg) -> Result<i64, tp::Status> {
        Ok(arg.n)
    }
    // An implementation may also return a `Send` future by hand.
    fn no_ctx(&self, arg: Vec<u8>) -> impl Future<Output = usize> + Send {
        async move { arg.len() }
    }
    fn sync_no_arg(&self) -> String {
        String::new()
    }
    fn own_error(&self, n: i64) -> Result<i64, MyError> {
        *self.state.lock().unwrap() += n;
        Err(MyError)
    }
    async fn pushed(&self, _ctx: &tp::PushCtx, _arg: String) {}
}

// A private trait: its client and server are private too.
#[tp::service(mapper = "rpc")]
trait Private {
    fn ping(&self) -> String;
}

impl Private for Imp {
    fn ping(&self) -> String {
        "pong".to_owned()
    }
}

fn main() {
    let peer = tp::Peer::new(tp::PeerConfig::default()).unwrap();
    peer.route(SvcServer::new(Imp { state: std::sync::Mutex::new(0) }));
    peer.route(PrivateServer::new(Imp { state: std::sync::Mutex::new(0) }));
    let _ = SvcClient::FULL;
    let _ = SvcClient::RENAMED;
    let _ = PrivateClient::PING;
    let _ = |s: tp::Session| async move {
        let _: i64 = SvcClient::full(&s, &Arg { n: 1 }).await?;
        let _: usize = SvcClient::no_ctx(&s, &[1, 2]).await?;
        let _: usize = SvcClient::no_ctx(&s, &b"bytes"[..]).await?;
        let _: String = SvcClient::sync_no_arg(&s).await?;
        let _: String = SvcClient::with_default(&s, "key").await?;
        let key = String::from("key");
        let _: String = SvcClient::with_default(&s, &key).await?;
        let _: String = SvcClient::with_default(&s, key.as_str()).await?;
        SvcClient::unit(&s).await?;
        SvcClient::pushed(&s, "text").await?;
        SvcClient::pushed_result_with(&s, &1, &tp::CallOptions::new()).await?;
        let _: String = PrivateClient::ping(&s).await?;
        let _: i64 = SvcClient::aliased(&s).await?;
        let reply = SvcClient::full_reply(&s, &Arg { n: 1 }).await?;
        let _ = reply.meta;
        let reply = SvcClient::full_with(&s, &Arg { n: 1 }, &tp::CallOptions::new()).await?;
        Ok::<i64, tp::Status>(reply.value)
    };
}

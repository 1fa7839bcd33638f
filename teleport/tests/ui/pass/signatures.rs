//! Every accepted method shape.

use teleport as tp;

#[derive(serde::Serialize, serde::Deserialize)]
struct Arg {
    n: i64,
}

struct Svc {
    state: std::sync::Mutex<i64>,
}

#[derive(Debug)]
struct MyError;

impl From<MyError> for tp::Status {
    fn from(_: MyError) -> Self {
        tp::Status::new(1001, "mine")
    }
}

#[tp::service]
impl Svc {
    async fn full(&self, _ctx: &tp::CallCtx, arg: Arg) -> Result<i64, tp::Status> {
        Ok(arg.n)
    }
    async fn no_ctx(&self, arg: Vec<u8>) -> usize {
        arg.len()
    }
    fn sync_no_arg(&self) -> String {
        String::new()
    }
    fn unit(&self) {}
    fn own_error(&self, n: i64) -> Result<i64, MyError> {
        *self.state.lock().unwrap() += n;
        Err(MyError)
    }
    #[tp(push)]
    async fn pushed(&self, _ctx: &tp::PushCtx, _arg: String) {}
    #[tp(push)]
    fn pushed_result(&self, _arg: i32) -> Result<(), tp::Status> {
        Ok(())
    }
    #[tp(route = "/custom")]
    fn renamed(&self) {}
    #[tp(skip)]
    fn helper() -> i32 {
        1
    }
}

fn main() {
    let peer = tp::Peer::new(tp::PeerConfig::default()).unwrap();
    peer.route(Svc { state: std::sync::Mutex::new(0) });
    let _ = Svc::helper();
    let _ = SvcClient::FULL;
    let _ = SvcClient::RENAMED;
    let _ = |s: tp::Session| async move {
        let _: i64 = SvcClient::full(&s, &Arg { n: 1 }).await?;
        let _: usize = SvcClient::no_ctx(&s, &vec![1]).await?;
        let _: String = SvcClient::sync_no_arg(&s).await?;
        SvcClient::unit(&s).await?;
        SvcClient::pushed(&s, &String::new()).await?;
        SvcClient::pushed_result_with(&s, &1, &tp::CallOptions::new()).await?;
        let reply = SvcClient::full_with(&s, &Arg { n: 1 }, &tp::CallOptions::new()).await?;
        Ok::<i64, tp::Status>(reply.value)
    };
}

//! The plugin hooks, in order.

use std::sync::Arc;

use parking_lot::Mutex;
use teleport::BoxFuture;
use teleport::plugin::HookResult;
use teleport::{CallCtx, Message, Peer, Plugin, PushCtx, Session, Status};
use tokio::sync::mpsc;

use crate::common::{config, eventually};

#[derive(Clone, Default)]
struct Recorder {
    log: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn note(&self, hook: &str) -> HookResult {
        self.log.lock().push(hook.to_owned());
        Ok(())
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock())
    }
}

impl Plugin for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }
    fn post_new_peer(&self, _: &Peer) -> HookResult {
        self.note("post_new_peer")
    }
    fn post_register(&self, route: &str, _: bool) -> HookResult {
        self.note(&format!("post_register {route}"))
    }
    fn post_listen(&self, _: &teleport::transport::Addr) -> HookResult {
        self.note("post_listen")
    }
    fn post_dial<'a>(&'a self, _: &'a Session, redial: bool) -> BoxFuture<'a, HookResult> {
        Box::pin(async move { self.note(&format!("post_dial redial={redial}")) })
    }
    fn post_accept<'a>(&'a self, _: &'a Session) -> BoxFuture<'a, HookResult> {
        Box::pin(async move { self.note("post_accept") })
    }
    fn pre_write_call(&self, _: &Session, _: &mut Message) -> HookResult {
        self.note("pre_write_call")
    }
    fn post_write_call(&self, _: &Session, _: &Message) -> HookResult {
        self.note("post_write_call")
    }
    fn pre_write_reply(&self, _: &CallCtx, _: &mut Message) -> HookResult {
        self.note("pre_write_reply")
    }
    fn post_write_reply(&self, _: &CallCtx, _: &Message) -> HookResult {
        self.note("post_write_reply")
    }
    fn pre_write_push(&self, _: &Session, _: &mut Message) -> HookResult {
        self.note("pre_write_push")
    }
    fn post_write_push(&self, _: &Session, _: &Message) -> HookResult {
        self.note("post_write_push")
    }
    fn pre_read_header(&self, _: &Session) -> HookResult {
        self.note("pre_read_header")
    }
    fn post_read_call_header(&self, _: &Session, _: &mut Message) -> HookResult {
        self.note("post_read_call_header")
    }
    fn pre_read_call_body(&self, _: &CallCtx) -> HookResult {
        self.note("pre_read_call_body")
    }
    fn post_read_call_body(&self, _: &CallCtx) -> HookResult {
        self.note("post_read_call_body")
    }
    fn post_read_push_header(&self, _: &Session, _: &mut Message) -> HookResult {
        self.note("post_read_push_header")
    }
    fn pre_read_push_body(&self, _: &PushCtx) -> HookResult {
        self.note("pre_read_push_body")
    }
    fn post_read_push_body(&self, _: &PushCtx) -> HookResult {
        self.note("post_read_push_body")
    }
    fn post_read_reply_header(&self, _: &Session, _: &mut Message) -> HookResult {
        self.note("post_read_reply_header")
    }
    fn pre_read_reply_body(&self, _: &Session, _: &Message) -> HookResult {
        self.note("pre_read_reply_body")
    }
    fn post_read_reply_body(&self, _: &Session, _: &Message) -> HookResult {
        self.note("post_read_reply_body")
    }
    fn post_disconnect(&self, _: &Session) {
        let _ = self.note("post_disconnect");
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hooks_run_in_gos_order_over_a_call_a_push_and_a_reply() {
    let (server_log, client_log) = (Recorder::default(), Recorder::default());
    let server = Peer::builder(config()).plugin(server_log.clone()).build().unwrap();
    let (pushed_tx, mut pushed) = mpsc::unbounded_channel::<()>();
    server.route_call_fn("/math/add", |_ctx: CallCtx, nums: Vec<i64>| async move {
        Ok(nums.iter().sum::<i64>())
    });
    server.route_push_fn("/push/note", move |_ctx: PushCtx, _: String| {
        let pushed_tx = pushed_tx.clone();
        async move {
            pushed_tx.send(()).unwrap();
            Ok(())
        }
    });
    let addr = server.listen().await.unwrap();
    let client = Peer::builder(config()).plugin(client_log.clone()).build().unwrap();
    let session = client.dial(&addr.to_string()).await.unwrap();
    eventually(|| server_log.log.lock().contains(&"post_accept".to_owned())).await;
    assert_eq!(
        server_log.take(),
        strings(&[
            "post_new_peer",
            "post_register /math/add",
            "post_register /push/note",
            "post_listen",
            "post_accept"
        ])
    );
    assert_eq!(client_log.take(), strings(&["post_new_peer", "post_dial redial=false"]));

    assert_eq!(session.call::<i64>("/math/add", &[1, 2]).await.unwrap(), 3);
    eventually(|| server_log.log.lock().len() >= 6).await;
    assert_eq!(
        server_log.take(),
        strings(&[
            "pre_read_header",
            "post_read_call_header",
            "pre_read_call_body",
            "post_read_call_body",
            "pre_write_reply",
            "post_write_reply"
        ])
    );
    // The reply may be read before the writing side ran its post hook: each side keeps
    // its own order.
    let log = client_log.take();
    assert_eq!(log.len(), 6, "{log:?}");
    assert_eq!(log[0], "pre_write_call");
    let reading: Vec<&str> =
        log.iter().map(String::as_str).filter(|h| *h != "post_write_call").collect();
    assert_eq!(
        reading,
        [
            "pre_write_call",
            "pre_read_header",
            "post_read_reply_header",
            "pre_read_reply_body",
            "post_read_reply_body"
        ]
    );

    session.push("/push/note", "hi").await.unwrap();
    pushed.recv().await.unwrap();
    assert_eq!(
        server_log.take(),
        strings(&[
            "pre_read_header",
            "post_read_push_header",
            "pre_read_push_body",
            "post_read_push_body"
        ])
    );
    assert_eq!(client_log.take(), strings(&["pre_write_push", "post_write_push"]));

    session.close().await;
    assert_eq!(client_log.take(), strings(&["post_disconnect"]));
    eventually(|| server_log.log.lock().contains(&"post_disconnect".to_owned())).await;
}

struct Deny;

impl Plugin for Deny {
    fn name(&self) -> &str {
        "deny"
    }
    fn post_read_call_header(&self, _: &Session, msg: &mut Message) -> HookResult {
        if msg.path() == "/secret" { Err(Status::new(1403, "forbidden")) } else { Ok(()) }
    }
}

struct Tag(&'static str);

impl Plugin for Tag {
    fn name(&self) -> &str {
        self.0
    }
    fn pre_write_reply(&self, ctx: &CallCtx, msg: &mut Message) -> HookResult {
        msg.meta.add("tag", self.0);
        let _ = ctx;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_hook_answers_with_its_status_and_group_plugins_apply_to_their_routes() {
    let server = Peer::builder(config()).plugin(Deny).build().unwrap();
    server.route_call_fn("/secret", |_ctx: CallCtx, _: ()| async move { Ok("leaked") });
    let group = server.group("/v1", vec![Arc::new(Tag("v1"))]);
    group.route_call_fn("/echo", |_ctx: CallCtx, s: String| async move { Ok(s) });
    server.route_call_fn("/echo", |_ctx: CallCtx, s: String| async move { Ok(s) });
    let addr = server.listen().await.unwrap();
    let client = Peer::new(config()).unwrap();
    let session = client.dial(&addr.to_string()).await.unwrap();

    let err = session.call::<String>("/secret", &()).await.unwrap_err();
    assert_eq!((err.code(), err.msg()), (1403, "forbidden"));
    let options = teleport::CallOptions::new();
    let tagged = session.call_with::<String>("/v1/echo", "a", &options).await.unwrap();
    assert_eq!(tagged.meta.get("tag"), Some("v1"));
    let plain = session.call_with::<String>("/echo", "a", &options).await.unwrap();
    assert_eq!(plain.meta.get("tag"), None);
}

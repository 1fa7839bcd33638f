//! The struct variant of the thrift protocol over TCP: thrift bodies written as structs,
//! meta both ways, an error status, a push, and a refused body that fails only its call.
#![cfg(feature = "thrift")]

#[path = "support/thrift_types.rs"]
mod thrift_types;

use std::sync::Arc;

use teleport::codec::Thrift;
use teleport::proto::{Limits, ThriftProto};
use teleport::status::CODE_WRITE_FAILED;
use teleport::{CallCtx, CallOptions, Peer, PeerConfig, PushCtx, Status};
use thrift_types::{Empty, Test};
use tokio::sync::mpsc;

fn peer() -> Peer {
    let config = PeerConfig {
        local_ip: "127.0.0.1".into(),
        default_body_codec: "thrift".into(),
        ..PeerConfig::default()
    };
    Peer::builder(config).proto(Arc::new(ThriftProto::structs(Limits::default()))).build().unwrap()
}

#[tokio::test]
async fn thrift_structs_over_tcp() {
    let server = peer();
    let (pushed, mut got) = mpsc::unbounded_channel();
    server.route_call_fn("/home/test", |ctx: CallCtx, arg: Thrift<Test>| async move {
        let peer_id = ctx.input_meta().get("peer_id").unwrap_or_default().to_owned();
        ctx.set_meta("seen", &peer_id);
        Ok(Thrift(Test { author: format!("{}->OK", arg.author) }))
    });
    server.route_call_fn("/home/fail", |_ctx: CallCtx, _: Thrift<Empty>| async move {
        Err::<Thrift<Empty>, _>(Status::new(10_001, "no").cause("because"))
    });
    server.route_push_fn("/home/note", move |_ctx: PushCtx, arg: Thrift<Test>| {
        let pushed = pushed.clone();
        async move {
            pushed.send(arg.0.author).unwrap();
            Ok(())
        }
    });
    let addr = server.listen().await.unwrap();
    let client = peer();
    let session = client.dial(&addr.to_string()).await.unwrap();

    let options = CallOptions::new().set_meta("peer_id", "110");
    let arg = Thrift(Test { author: "tp".into() });
    let reply = session.call_with::<Thrift<Test>>("/home/test", &arg, &options).await.unwrap();
    assert_eq!(reply.value.author, "tp->OK");
    assert_eq!(reply.meta.get("seen"), Some("110"));

    let status = session.call::<Thrift<Empty>>("/home/fail", &Thrift(Empty {})).await.unwrap_err();
    assert_eq!((status.code(), status.msg(), status.cause_text()), (10_001, "no", Some("because")));

    session.push("/home/note", &Thrift(Test { author: "pushed".into() })).await.unwrap();
    assert_eq!(got.recv().await.unwrap(), "pushed");

    // A JSON body cannot be written by this protocol: that call fails, the session lives.
    let json = CallOptions::new().codec(b'j');
    let status = session.call_with::<String>("/home/test", &"x", &json).await.unwrap_err();
    assert_eq!(status.code(), CODE_WRITE_FAILED, "{status}");
    let reply = session.call_with::<Thrift<Test>>("/home/test", &arg, &options).await.unwrap();
    assert_eq!(reply.value.author, "tp->OK");

    client.close().await;
    server.close().await;
}

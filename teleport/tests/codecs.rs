//! The optional body codecs over a real TCP connection: the call goes in the codec, the
//! reply comes back in it, and a body that does not decode is answered 400.
#![cfg(any(feature = "xml", feature = "thrift", feature = "bincode"))]

#[cfg(feature = "xml")]
use serde::{Deserialize, Serialize};
#[cfg(any(feature = "xml", feature = "thrift"))]
use teleport::status::CODE_BAD_MESSAGE;
use teleport::{CallCtx, CallOptions, Peer, PeerConfig, Session, codec};

#[cfg(feature = "xml")]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Person {
    name: String,
    age: u32,
    tags: Vec<String>,
}

#[cfg(feature = "xml")]
fn person() -> Person {
    Person { name: "Ann <&> Bo".into(), age: 41, tags: vec!["a".into(), "b".into()] }
}

/// A server on loopback port 0 with `setup`'s routes, and a client session to it.
async fn pair(setup: impl FnOnce(&Peer)) -> (Peer, Peer, Session) {
    pair_with(PeerConfig::default(), setup).await
}

/// [`pair`] with both peers configured from `config`.
async fn pair_with(config: PeerConfig, setup: impl FnOnce(&Peer)) -> (Peer, Peer, Session) {
    let config = PeerConfig { local_ip: "127.0.0.1".into(), ..config };
    let server = Peer::new(config.clone()).unwrap();
    setup(&server);
    let addr = server.listen().await.unwrap();
    let client = Peer::new(config).unwrap();
    let session = client.dial(&addr.to_string()).await.unwrap();
    (server, client, session)
}

async fn close(server: Peer, client: Peer) {
    client.close().await;
    server.close().await;
}

#[cfg(feature = "xml")]
fn serde_routes(peer: &Peer) {
    peer.route_call_fn("/person/older", |ctx: CallCtx, mut p: Person| async move {
        assert_eq!(ctx.body_codec(), ctx.input_meta().get("want").unwrap().as_bytes()[0]);
        p.age += 1;
        Ok(p)
    });
}

#[cfg(feature = "xml")]
async fn serde_codec_round_trip(id: u8) {
    let (server, client, session) = pair(serde_routes).await;
    let want = (id as char).to_string();
    let options = CallOptions::new().codec(id).set_meta("want", &want);
    let reply = session.call_with::<Person>("/person/older", &person(), &options).await.unwrap();
    assert_eq!(reply.codec, id);
    assert_eq!(reply.value, Person { age: 42, ..person() });

    let garbage = codec::RawBody(bytes::Bytes::from_static(b"\x00\xff not a body"));
    let status = session.call_with::<Person>("/person/older", &garbage, &options).await;
    assert_eq!(status.unwrap_err().code(), CODE_BAD_MESSAGE);
    // The session lives on after the message-level error.
    let reply = session.call_with::<Person>("/person/older", &person(), &options).await.unwrap();
    assert_eq!(reply.value.age, 42);
    close(server, client).await;
}

#[cfg(feature = "xml")]
#[tokio::test]
async fn xml_over_tcp() {
    serde_codec_round_trip(codec::XML).await;
}

#[cfg(feature = "xml")]
#[tokio::test]
async fn xml_reply_as_go_writes_it() {
    let (server, client, session) = pair(|peer| {
        peer.route_call_fn("/go/person", |_ctx: CallCtx, _: ()| async move {
            let go = "<Person><Name>Go</Name><Age>15</Age><Tags>x</Tags></Person>";
            Ok(codec::RawBody(bytes::Bytes::from_static(go.as_bytes())))
        });
    })
    .await;
    let options = CallOptions::new().codec(codec::XML);
    let reply = session.call_with::<Person>("/go/person", &(), &options).await.unwrap();
    assert_eq!(reply.value, Person { name: "Go".into(), age: 15, tags: vec!["x".into()] });
    close(server, client).await;
}

#[cfg(feature = "thrift")]
#[path = "support/thrift_types.rs"]
mod thrift_types;

#[cfg(feature = "thrift")]
#[tokio::test]
async fn thrift_over_tcp() {
    use teleport::codec::Thrift;
    use thrift_types::Test;

    let (server, client, session) = pair(|peer| {
        peer.route_call_fn("/home/test", |_ctx: CallCtx, arg: Thrift<Test>| async move {
            Ok(Thrift(Test { author: arg.author.clone() + "->OK" }))
        });
    })
    .await;
    let options = CallOptions::new().codec(codec::THRIFT);
    let arg = Thrift(Test { author: "tp".into() });
    let reply = session.call_with::<Thrift<Test>>("/home/test", &arg, &options).await.unwrap();
    assert_eq!((reply.codec, reply.value.author.as_str()), (codec::THRIFT, "tp->OK"));

    let cut = codec::RawBody(bytes::Bytes::from_static(b"\x0b\x00\x01\x7f\xff\xff\xff"));
    let status = session.call_with::<Thrift<Test>>("/home/test", &cut, &options).await;
    assert_eq!(status.unwrap_err().code(), CODE_BAD_MESSAGE);
    // A JSON body is refused by the thrift-only argument type, and the session lives on.
    let status = session.call::<Thrift<Test>>("/home/test", &"x").await;
    assert_eq!(status.unwrap_err().code(), CODE_BAD_MESSAGE);
    let reply = session.call_with::<Thrift<Test>>("/home/test", &arg, &options).await.unwrap();
    assert_eq!(reply.value.author, "tp->OK");
    close(server, client).await;
}

/// Bincode decodes within the peer's frame limit, not within the default 4 MiB: a body
/// above 4 MiB goes both ways when `max_frame` is larger.
#[cfg(feature = "bincode")]
#[tokio::test]
async fn bincode_body_above_4_mib_within_a_larger_max_frame() {
    let config = PeerConfig { max_frame: 6 << 20, ..PeerConfig::default() };
    let (server, client, session) = pair_with(config, |peer| {
        peer.route_call_fn("/bytes/echo", |_ctx: CallCtx, body: Vec<u8>| async move { Ok(body) });
    })
    .await;
    let big: Vec<u8> = (0..5 << 20).map(|i| (i % 251) as u8).collect();
    let options = CallOptions::new().codec(codec::BINCODE);
    let reply = session.call_with::<Vec<u8>>("/bytes/echo", &big, &options).await.unwrap();
    assert_eq!(reply.codec, codec::BINCODE);
    assert!(reply.value == big, "the echoed body differs");
    close(server, client).await;
}

//! The optional body codecs over a real TCP connection: the call goes in the codec, the
//! reply comes back in it, and a body that does not decode is answered 400.

use serde::{Deserialize, Serialize};
use teleport::status::CODE_BAD_MESSAGE;
use teleport::{CallCtx, CallOptions, Peer, PeerConfig, Session, codec};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Person {
    name: String,
    age: u32,
    tags: Vec<String>,
}

fn person() -> Person {
    Person { name: "Ann <&> Bo".into(), age: 41, tags: vec!["a".into(), "b".into()] }
}

/// A server on loopback port 0 with `setup`'s routes, and a client session to it.
async fn pair(setup: impl FnOnce(&Peer)) -> (Peer, Peer, Session) {
    let config = PeerConfig { local_ip: "127.0.0.1".into(), ..PeerConfig::default() };
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

fn serde_routes(peer: &Peer) {
    peer.route_call_fn("/person/older", |ctx: CallCtx, mut p: Person| async move {
        assert_eq!(ctx.body_codec(), ctx.input_meta().get("want").unwrap().as_bytes()[0]);
        p.age += 1;
        Ok(p)
    });
}

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

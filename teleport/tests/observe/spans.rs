//! A span per call and push, on the side that sends and on the side that handles.

use teleport::{CallCtx, PushCtx, Status};

use super::capture::Captured;
use super::wait::eventually;
use super::{config, dial, is_hex, server};

#[tokio::test(flavor = "current_thread")]
async fn calls_and_pushes_have_a_span_on_each_side_with_their_fields() {
    let (captured, _guard) = Captured::install(tracing::Level::INFO);
    let (_server, addr) = server(config(), |peer| {
        peer.route_call_fn("/math/add", |_ctx: CallCtx, nums: Vec<i64>| async move {
            tracing::info!("adding");
            Ok::<_, Status>(nums.iter().sum::<i64>())
        });
        peer.route_push_fn("/chat/say", |_ctx: PushCtx, _text: String| async move {
            Ok::<_, Status>(())
        });
    })
    .await;
    let (_client, session) = dial(config(), &addr).await;
    assert_eq!(session.call::<i64>("/math/add", &[1, 2, 3]).await.unwrap(), 6);
    session.push("/chat/say", "hi").await.unwrap();
    let missing = session.call::<i64>("/math/none", &[1]).await.unwrap_err();
    assert_eq!(missing.code(), 404);
    eventually(|| captured.find("push", "server", "/chat/say").len() == 1).await;
    eventually(|| captured.find("call", "server", "/math/none").len() == 1).await;

    let client = &captured.find("call", "client", "/math/add")[0];
    let handler = &captured.find("call", "server", "/math/add")[0];
    for span in [client, handler] {
        assert_eq!(span.get("seq"), "1", "{span:?}");
        assert_eq!(span.get("code"), "0", "{span:?}");
        assert_eq!(span.get("codec"), "j", "{span:?}");
        assert!(span.get("elapsed_us").parse::<u64>().is_ok(), "{span:?}");
        assert!(is_hex(span.get("trace_id"), 32) && is_hex(span.get("span_id"), 16), "{span:?}");
        assert!(!span.get("session").is_empty(), "{span:?}");
    }
    assert_eq!(client.get("otel.kind"), "client");
    assert_eq!(handler.get("otel.kind"), "server");
    assert_eq!(client.get("remote"), addr);
    assert_eq!(handler.get("remote"), client_addr(&session));
    // The handler's span is a child of the caller's, in the same trace.
    assert_eq!(handler.get("trace_id"), client.get("trace_id"));
    assert_eq!(handler.get("parent_span_id"), client.get("span_id"));
    assert_eq!(client.get("parent_span_id"), "");
    // The handler ran inside its span.
    let adding = captured.events().into_iter().find(|e| e.message == "adding").unwrap();
    assert_eq!(adding.span.as_deref(), Some("server /math/add"));

    let (sent, got) = (
        &captured.find("push", "client", "/chat/say")[0],
        &captured.find("push", "server", "/chat/say")[0],
    );
    assert_eq!((sent.get("seq"), got.get("seq")), ("2", "2"));
    assert_eq!((sent.get("otel.kind"), got.get("otel.kind")), ("producer", "consumer"));
    assert_eq!(got.get("trace_id"), sent.get("trace_id"));

    let (asked, refused) = (
        &captured.find("call", "client", "/math/none")[0],
        &captured.find("call", "server", "/math/none")[0],
    );
    assert_eq!((asked.get("code"), refused.get("code")), ("404", "404"));
    assert_eq!(
        (asked.get("otel.status_code"), refused.get("otel.status_code")),
        ("ERROR", "ERROR")
    );
}

/// The local address of the client's connection, as the server sees it.
fn client_addr(session: &teleport::Session) -> String {
    session.local_addr().to_string()
}

#[tokio::test(flavor = "current_thread")]
async fn without_a_subscriber_at_info_no_span_is_made_and_no_trace_context_is_sent() {
    let (captured, _guard) = Captured::install(tracing::Level::WARN);
    let (_server, addr) = server(config(), |peer| {
        peer.route_call_fn("/echo/meta", |ctx: CallCtx, _: ()| async move {
            let seen = ctx.input_meta().get("traceparent").map(str::to_owned);
            Ok::<_, Status>((seen, ctx.trace_context().is_some()))
        });
    })
    .await;
    let (_client, session) = dial(config(), &addr).await;
    let (seen, traced) = session.call::<(Option<String>, bool)>("/echo/meta", &()).await.unwrap();
    assert_eq!((seen, traced), (None, false));
    assert!(captured.spans().is_empty(), "{:?}", captured.spans());
}

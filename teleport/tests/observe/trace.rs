//! The W3C trace context crossing peers: through a nested call (A -> B -> C) and through
//! the proxy plugin, traced and untraced.

use teleport::plugin::proxy::Proxy;
use teleport::{CallCtx, CallOptions, Peer, Session, Status};

use super::capture::{Captured, SpanRecord};
use super::wait::eventually;
use super::{config, dial, server};

/// What the last peer of a chain saw: the `traceparent` it received, and the trace id of
/// its handler's context.
type Seen = (Option<String>, Option<String>);

fn echo_trace(peer: &Peer, route: &'static str) {
    peer.route_call_fn(route, |ctx: CallCtx, _: ()| async move {
        let got = ctx.input_meta().get("traceparent").map(str::to_owned);
        let trace = ctx.trace_context().map(|t| format!("{:032x}", t.trace_id()));
        Ok::<_, Status>((got, trace))
    });
}

/// C answers `/c/echo`; B answers `/b/relay` by calling C; returns A's session to B.
async fn chain() -> (Vec<Peer>, Session) {
    let (c, c_addr) = server(config(), |peer| echo_trace(peer, "/c/echo")).await;
    let (b_client, to_c) = dial(config(), &c_addr).await;
    let (b, b_addr) = server(config(), move |peer| {
        peer.route_call_fn("/b/relay", move |_ctx: CallCtx, _: ()| {
            let to_c = to_c.clone();
            async move { to_c.call::<Seen>("/c/echo", &()).await }
        });
    })
    .await;
    let (a, to_b) = dial(config(), &b_addr).await;
    (vec![a, b, b_client, c], to_b)
}

fn one(captured: &Captured, side: &str, route: &str) -> SpanRecord {
    let found = captured.find("call", side, route);
    assert_eq!(found.len(), 1, "{side} {route}: {:?}", captured.spans());
    found[0].clone()
}

#[tokio::test(flavor = "current_thread")]
async fn the_trace_id_crosses_a_nested_call_from_a_through_b_to_c() {
    let (captured, _guard) = Captured::install(tracing::Level::INFO);
    let (_peers, to_b) = chain().await;
    let (got, trace) = to_b.call::<Seen>("/b/relay", &()).await.unwrap();
    eventually(|| captured.find("call", "server", "/b/relay").len() == 1).await;
    eventually(|| captured.find("call", "server", "/c/echo").len() == 1).await;

    let a_out = one(&captured, "client", "/b/relay");
    let b_in = one(&captured, "server", "/b/relay");
    let b_out = one(&captured, "client", "/c/echo");
    let c_in = one(&captured, "server", "/c/echo");
    let trace_id = a_out.get("trace_id");
    for span in [&b_in, &b_out, &c_in] {
        assert_eq!(span.get("trace_id"), trace_id, "{span:?}");
    }
    assert_eq!(b_in.get("parent_span_id"), a_out.get("span_id"));
    assert_eq!(b_out.get("parent_span_id"), b_in.get("span_id"));
    assert_eq!(
        b_out.parent.as_deref(),
        Some(b_in.get("span_id")),
        "B's call runs in its handler's span"
    );
    assert_eq!(c_in.get("parent_span_id"), b_out.get("span_id"));
    // What C received on the wire: B's outgoing span as the parent, in A's trace.
    assert_eq!(got.unwrap(), format!("00-{trace_id}-{}-01", b_out.get("span_id")));
    assert_eq!(trace.as_deref(), Some(trace_id));
}

#[tokio::test(flavor = "current_thread")]
async fn untraced_peers_pass_a_received_trace_context_on_unchanged() {
    let (captured, _guard) = Captured::install(tracing::Level::WARN);
    let (_peers, to_b) = chain().await;
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let options = CallOptions::new().set_meta("traceparent", parent).set_meta("tracestate", "k=v");
    let reply = to_b.call_with::<Seen>("/b/relay", &(), &options).await.unwrap();
    let (got, trace) = reply.value;
    assert_eq!(got.as_deref(), Some(parent));
    assert_eq!(trace.as_deref(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
    assert!(captured.spans().is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn a_callers_trace_context_in_meta_becomes_the_parent_of_its_span() {
    let (captured, _guard) = Captured::install(tracing::Level::INFO);
    let (_peers, to_b) = chain().await;
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let options = CallOptions::new().set_meta("traceparent", parent).set_meta("tracestate", "k=v");
    let (got, _) = to_b.call_with::<Seen>("/b/relay", &(), &options).await.unwrap().value;
    let a_out = one(&captured, "client", "/b/relay");
    assert_eq!(a_out.get("trace_id"), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(a_out.get("parent_span_id"), "00f067aa0ba902b7");
    let got = got.unwrap();
    assert!(
        got.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-")
            && !got.contains("00f067aa0ba902b7")
    );
}

#[tokio::test(flavor = "current_thread")]
async fn the_trace_id_crosses_the_proxy_plugin() {
    let (captured, _guard) = Captured::install(tracing::Level::INFO);
    let (_backend, backend_addr) = server(config(), |peer| echo_trace(peer, "/math/echo")).await;
    let (_front, upstream) = dial(config(), &backend_addr).await;
    let proxy = Peer::builder(config())
        .plugin(Proxy::new(move |_label| Some(upstream.clone())))
        .build()
        .unwrap();
    let proxy_addr = proxy.listen().await.unwrap().to_string();
    let (_client, session) = dial(config(), &proxy_addr).await;
    let (got, trace) = session.call::<Seen>("/math/echo", &()).await.unwrap();
    eventually(|| captured.find("call", "server", "/math/echo").len() == 2).await;

    let outgoing = captured.find("call", "client", "/math/echo");
    let first = outgoing.iter().find(|s| s.get("remote") == proxy_addr).unwrap();
    let forwarded = outgoing.iter().find(|s| s.get("remote") == backend_addr).unwrap();
    let handled = captured.find("call", "server", "/math/echo");
    let at_proxy =
        handled.iter().find(|s| s.get("parent_span_id") == first.get("span_id")).unwrap();
    let at_backend =
        handled.iter().find(|s| s.get("parent_span_id") == forwarded.get("span_id")).unwrap();
    let trace_id = first.get("trace_id");
    assert_eq!(forwarded.get("parent_span_id"), at_proxy.get("span_id"));
    assert_eq!(at_backend.get("trace_id"), trace_id);
    assert_eq!(got.unwrap(), format!("00-{trace_id}-{}-01", forwarded.get("span_id")));
    assert_eq!(trace.as_deref(), Some(trace_id));
}

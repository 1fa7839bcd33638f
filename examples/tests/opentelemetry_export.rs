//! With the `opentelemetry` feature and a `tracing-opentelemetry` layer, the call spans are
//! exported, and the trace context on the wire is the exported spans': the handler's span
//! is the remote child of the caller's, in the same trace.

use std::sync::{Arc, Mutex};

use opentelemetry::trace::{SpanKind, TracerProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use teleport::{CallCtx, Peer, PeerConfig, Status};
use tracing_subscriber::layer::SubscriberExt;

/// Keeps the exported spans.
#[derive(Clone, Debug, Default)]
struct Kept(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Kept {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        self.0.lock().unwrap().extend(batch);
        std::future::ready(Ok(()))
    }
}

#[tokio::test(flavor = "current_thread")]
async fn exported_spans_carry_the_trace_context_sent_on_the_wire() {
    let kept = Kept::default();
    let provider = SdkTracerProvider::builder().with_simple_exporter(kept.clone()).build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("test"));
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));

    let loopback = PeerConfig { local_ip: "127.0.0.1".into(), ..PeerConfig::default() };
    let server = Peer::new(loopback.clone()).unwrap();
    server.route_call_fn("/trace/echo", |ctx: CallCtx, _: ()| async move {
        Ok::<_, Status>(ctx.input_meta().get("traceparent").unwrap_or_default().to_owned())
    });
    let addr = server.listen().await.unwrap().to_string();
    let session = Peer::new(loopback).unwrap().dial(&addr).await.unwrap();
    let sent = session.call::<String>("/trace/echo", &()).await.unwrap();
    session.close().await;
    drop(server);

    let spans = kept.0.lock().unwrap().clone();
    let find = |kind: SpanKind| {
        spans
            .iter()
            .find(|s| s.span_kind == kind && s.name == "/trace/echo")
            .unwrap_or_else(|| panic!("no {kind:?} span in {spans:#?}"))
            .clone()
    };
    let (client, server) = (find(SpanKind::Client), find(SpanKind::Server));
    let trace_id = client.span_context.trace_id();
    assert_eq!(sent, format!("00-{trace_id}-{}-01", client.span_context.span_id()));
    assert_eq!(server.span_context.trace_id(), trace_id);
    assert_eq!(server.parent_span_id, client.span_context.span_id());
    assert!(server.parent_span_is_remote);
}

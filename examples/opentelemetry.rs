//! Call spans exported through OpenTelemetry, to stdout: a client calls `/front/total` on
//! one server, whose handler calls `/math/add` on another. The four spans (two clients, two
//! servers) are printed as they end, all in one trace: each hop carried the W3C
//! `traceparent` in its meta.
//!
//! Run with `cargo run -p examples --example opentelemetry --features opentelemetry`.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use teleport::{CallCtx, Peer, PeerConfig, Status};
use tracing_subscriber::layer::SubscriberExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(opentelemetry_stdout::SpanExporter::default())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("teleport-example"));
    // Spans of target `teleport::rpc` are made at INFO.
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("teleport::rpc", tracing::Level::INFO);
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry().with(layer).with(filter),
    )?;

    let loopback = PeerConfig { local_ip: "127.0.0.1".into(), ..PeerConfig::default() };
    let math = Peer::new(loopback.clone())?;
    math.route_call_fn("/math/add", |_ctx: CallCtx, nums: Vec<i64>| async move {
        Ok::<_, Status>(nums.iter().sum::<i64>())
    });
    let math_addr = math.listen().await?.to_string();
    let to_math = Peer::new(loopback.clone())?.dial(&math_addr).await?;

    let front = Peer::new(loopback.clone())?;
    front.route_call_fn("/front/total", move |ctx: CallCtx, nums: Vec<i64>| {
        let to_math = to_math.clone();
        async move {
            if let Some(trace) = ctx.trace_context() {
                println!("front handles the call in trace {:032x}", trace.trace_id());
            }
            to_math.call::<i64>("/math/add", &nums).await
        }
    });
    let front_addr = front.listen().await?.to_string();
    let session = Peer::new(loopback)?.dial(&front_addr).await?;

    let total = session.call::<i64>("/front/total", &[1, 2, 3]).await?;
    println!("total = {total}");
    session.close().await;
    provider.shutdown()?;
    Ok(())
}

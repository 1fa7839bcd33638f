//! The manifest over real sockets: `/_tp/manifest` answers what `#[tp::service]` describes
//! (both forms, under a group prefix, with the peer's codec), and only when the peer's
//! `serve_manifest` is on; elsewhere it is an unknown route (404), as on a Go peer.

use teleport as tp;
use tp::manifest::{MANIFEST_ROUTE, Manifest, RouteKind, ServiceManifest};

/// A point on the plane.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
struct Point {
    /// Across.
    x: i64,
    y: Option<i64>,
}

/// Geometry for the tests.
struct Geo;

/// Geometry, on an impl block.
#[tp::service(mapper = "rpc")]
impl Geo {
    /// Moves a point.
    ///
    /// By one, both ways.
    fn shift(&self, p: Point) -> Point {
        Point { x: p.x + 1, y: p.y.map(|y| y + 1) }
    }

    /// Logs a line.
    #[tp(push)]
    fn log(&self, _text: String) {}

    #[tp(route = "/geo/origin")]
    fn origin(&self) -> Result<Point, tp::Status> {
        Ok(Point { x: 0, y: None })
    }
}

/// Counting, as a contract.
#[tp::service(prefix = "/v2")]
trait Count {
    /// Counts the words.
    async fn words(&self, text: String) -> usize;
}

struct Counter;

impl Count for Counter {
    async fn words(&self, text: String) -> usize {
        text.split_whitespace().count()
    }
}

fn config(serve_manifest: bool) -> tp::PeerConfig {
    tp::PeerConfig { local_ip: "127.0.0.1".into(), serve_manifest, ..tp::PeerConfig::default() }
}

async fn served(serve: bool) -> (tp::Peer, tp::Peer, tp::Session) {
    let server = tp::Peer::new(config(serve)).unwrap();
    server.route(Geo);
    server.group("/api", Vec::new()).route(CountServer::new(Counter));
    let addr = server.listen().await.unwrap();
    let client = tp::Peer::new(tp::PeerConfig::default()).unwrap();
    let session = client.dial(&addr.to_string()).await.unwrap();
    (server, client, session)
}

fn service<'a>(manifest: &'a Manifest, name: &str) -> &'a ServiceManifest {
    manifest.services.iter().find(|s| s.name == name).unwrap()
}

#[tokio::test]
async fn the_manifest_route_answers_every_described_service() {
    let (server, _client, session) = served(true).await;
    // An empty body and `null` both ask for it; the reply is JSON.
    let reply = session.call_with::<Manifest>(MANIFEST_ROUTE, &(), &tp::CallOptions::new()).await;
    let reply = reply.unwrap();
    assert_eq!(reply.codec, tp::codec::JSON);
    let manifest = reply.value;
    assert_eq!(manifest, server.manifest());
    assert_eq!(manifest.manifest, 1);
    let names: Vec<&str> = manifest.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Geo", "Count"]);

    let geo = service(&manifest, "Geo");
    assert_eq!(geo.docs, "Geometry, on an impl block.");
    assert_eq!((geo.mapper.as_str(), geo.prefix.as_str(), geo.codec.as_str()), ("rpc", "", "json"));
    let routes: Vec<(&str, &str, RouteKind)> =
        geo.routes.iter().map(|r| (r.route.as_str(), r.method.as_str(), r.kind)).collect();
    assert_eq!(
        routes,
        [
            ("Geo.Shift", "shift", RouteKind::Call),
            ("Geo.Log", "log", RouteKind::Push),
            ("/geo/origin", "origin", RouteKind::Call)
        ]
    );
    let shift = &geo.routes[0];
    assert_eq!(shift.docs, "Moves a point.\n\nBy one, both ways.");
    assert_eq!(
        (shift.arg.rust.as_str(), shift.reply.as_ref().unwrap().rust.as_str()),
        ("Point", "Point")
    );
    let log = &geo.routes[1];
    assert_eq!((log.arg.rust.as_str(), log.reply.is_none()), ("String", true));
    let origin = &geo.routes[2];
    assert_eq!((origin.arg.rust.as_str(), origin.docs.as_str()), ("()", ""));

    // The group's prefix joins the service's.
    let count = service(&manifest, "Count");
    assert_eq!(
        (count.prefix.as_str(), count.routes[0].route.as_str()),
        ("/api/v2", "/api/v2/count/words")
    );
    assert_eq!(count.routes[0].reply.as_ref().unwrap().rust, "usize");
    assert!(server.call_routes().contains(&"/api/v2/count/words".to_owned()));

    let null = session.call::<Manifest>(MANIFEST_ROUTE, &serde_json::Value::Null).await.unwrap();
    assert_eq!(null, manifest);
    schemas(&manifest);
}

#[cfg(feature = "schema")]
fn schemas(manifest: &Manifest) {
    let shift = &service(manifest, "Geo").routes[0];
    let schema = shift.arg.schema.as_ref().expect("Point derives JsonSchema");
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["title"], "Point");
    assert_eq!(schema["properties"]["x"]["type"], "integer");
    assert_eq!(schema["properties"]["x"]["description"], "Across.");
    assert_eq!(schema["required"], serde_json::json!(["x"]));
    let words = &service(manifest, "Count").routes[0];
    assert_eq!(words.arg.schema.as_ref().unwrap()["type"], "string");
}

#[cfg(not(feature = "schema"))]
fn schemas(manifest: &Manifest) {
    for service in &manifest.services {
        for route in &service.routes {
            assert_eq!(
                route.arg.schema, None,
                "{}: names only without the schema feature",
                route.route
            );
        }
    }
}

#[tokio::test]
async fn a_peer_without_serve_manifest_answers_404() {
    let (server, _client, session) = served(false).await;
    let err = session.call::<Manifest>(MANIFEST_ROUTE, &()).await.unwrap_err();
    assert_eq!(err.code(), tp::status::CODE_NOT_FOUND);
    assert!(!server.call_routes().contains(&MANIFEST_ROUTE.to_owned()));
    // The peer still describes its services to code that asks it.
    assert_eq!(server.manifest().services.len(), 2);
}

#[tokio::test]
async fn a_peer_with_another_default_codec_still_answers_json() {
    let server =
        tp::Peer::new(tp::PeerConfig { default_body_codec: "plain".into(), ..config(true) })
            .unwrap();
    server.route(Geo);
    let addr = server.listen().await.unwrap();
    let client = tp::Peer::new(tp::PeerConfig::default()).unwrap();
    let session = client.dial(&addr.to_string()).await.unwrap();
    let reply =
        session.call_with::<Manifest>(MANIFEST_ROUTE, &(), &tp::CallOptions::new()).await.unwrap();
    assert_eq!(reply.codec, tp::codec::JSON);
    assert_eq!(reply.value.services[0].codec, "plain");
}

//! Types generated from the JSON Schemas that `schemars` writes: a service whose types
//! derive `JsonSchema` is described, and the client built from its committed manifest
//! (`shapes.manifest.json`) calls it with the generated types.
//!
//! After changing the service, regenerate the manifest with
//! `TP_WRITE_MANIFEST=1 cargo test -p build-client --test shapes`.

use std::collections::HashMap;

use build_client::shapes as built;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use teleport as tp;

/// A point on the grid.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
struct Point {
    x: i32,
    y: i32,
}

/// Whether the last point joins the first.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
enum Kind {
    Open,
    Closed,
}

/// A shape to measure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
struct Shape {
    /// What it is called.
    name: String,
    kind: Kind,
    points: Vec<Point>,
    tags: HashMap<String, String>,
    note: Option<String>,
    stroke_width: f32,
}

/// Measures shapes.
struct Shapes;

/// Measures shapes.
#[tp::service]
impl Shapes {
    /// The area inside a closed shape (0 for an open one).
    fn area(&self, shape: Shape) -> f64 {
        if shape.kind == Kind::Open {
            return 0.0;
        }
        let p = &shape.points;
        let twice: i64 = (0..p.len())
            .map(|i| {
                let (a, b) = (p[i], p[(i + 1) % p.len()]);
                i64::from(a.x) * i64::from(b.y) - i64::from(b.x) * i64::from(a.y)
            })
            .sum();
        twice.abs() as f64 / 2.0
    }

    /// The corners of the bounding box, if there are points.
    fn bounds(&self, points: Vec<Point>) -> Option<(Point, Point)> {
        let (first, rest) = points.split_first()?;
        Some(rest.iter().fold((*first, *first), |(lo, hi), p| {
            (
                Point { x: lo.x.min(p.x), y: lo.y.min(p.y) },
                Point { x: hi.x.max(p.x), y: hi.y.max(p.y) },
            )
        }))
    }

    /// The shape with a tag added and its note set.
    fn tag(&self, (shape, key, value): (Shape, String, String)) -> Shape {
        let mut shape = shape;
        shape.note = Some(format!("tagged {key}"));
        shape.tags.insert(key, value);
        shape
    }
}

const COMMITTED: &str = include_str!("../shapes.manifest.json");

async fn serve() -> (tp::Peer, String) {
    let config =
        tp::PeerConfig { local_ip: "127.0.0.1".into(), serve_manifest: true, ..Default::default() };
    let server = tp::Peer::new(config).unwrap();
    server.route(Shapes);
    let addr = server.listen().await.unwrap().to_string();
    (server, addr)
}

#[tokio::test]
async fn the_committed_manifest_is_the_services() {
    let (server, _addr) = serve().await;
    let manifest = server.manifest();
    if std::env::var_os("TP_WRITE_MANIFEST").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/shapes.manifest.json");
        std::fs::write(path, serde_json::to_string_pretty(&manifest).unwrap() + "\n").unwrap();
    }
    let committed: tp::manifest::Manifest = serde_json::from_str(COMMITTED).unwrap();
    assert_eq!(
        committed, manifest,
        "regenerate: TP_WRITE_MANIFEST=1 cargo test -p build-client --test shapes"
    );
}

#[tokio::test]
async fn the_generated_types_call_the_service() {
    let (_server, addr) = serve().await;
    let client = tp::Peer::new(tp::PeerConfig::default()).unwrap();
    let session = client.dial(&addr).await.unwrap();
    let square = built::Shape {
        name: "square".into(),
        kind: built::Kind::Closed,
        points: vec![
            built::Point { x: 0, y: 0 },
            built::Point { x: 2, y: 0 },
            built::Point { x: 2, y: 2 },
            built::Point { x: 0, y: 2 },
        ],
        tags: HashMap::new(),
        note: None,
        stroke_width: 1.5,
    };
    assert_eq!(built::ShapesClient::area(&session, &square).await.unwrap(), 4.0);
    let open = built::Shape { kind: built::Kind::Open, ..square.clone() };
    assert_eq!(built::ShapesClient::area(&session, &open).await.unwrap(), 0.0);

    let bounds = built::ShapesClient::bounds(&session, &square.points).await.unwrap();
    assert_eq!(bounds, Some((built::Point { x: 0, y: 0 }, built::Point { x: 2, y: 2 })));
    assert_eq!(built::ShapesClient::bounds(&session, &[]).await.unwrap(), None);

    let arg = (square.clone(), "color".to_owned(), "red".to_owned());
    let tagged = built::ShapesClient::tag(&session, &arg).await.unwrap();
    assert_eq!(tagged.tags["color"], "red");
    assert_eq!(tagged.note.as_deref(), Some("tagged color"));
    assert_eq!((tagged.name, tagged.stroke_width), (square.name, square.stroke_width));
}

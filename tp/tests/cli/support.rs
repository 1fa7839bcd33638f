//! A live peer serving a small service, and the `tp` binary run against it.

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use teleport as tp;
use teleport::peer::Network;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// How long one run of `tp` may take before the test fails (far above what it needs).
pub(crate) const GUARD: Duration = Duration::from_secs(60);

/// A push received by the service: its text and meta.
pub(crate) type Said = (String, tp::Meta);

/// A point on the plane.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Point {
    x: i64,
    y: i64,
}

/// A segment, whose schema refers to [`Point`]'s in `$defs`.
#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub(crate) struct Segment {
    from: Point,
    to: Point,
}

/// The service the tests call.
pub(crate) struct Demo {
    pub(crate) adds: Arc<AtomicUsize>,
    pub(crate) said: mpsc::UnboundedSender<Said>,
}

/// Arithmetic and echoes for the `tp` tests.
#[tp::service]
impl Demo {
    /// Adds the numbers.
    async fn add(&self, nums: Vec<i64>) -> Result<i64, tp::Status> {
        self.adds.fetch_add(1, Ordering::SeqCst);
        Ok(nums.iter().sum())
    }

    /// Fails with a custom status.
    fn fail(&self) -> Result<(), tp::Status> {
        Err(tp::Status::new(10005, "custom").cause("a b&c=d"))
    }

    /// Answers with the meta it received, as pairs.
    fn meta(&self, ctx: &tp::CallCtx) -> Vec<(String, String)> {
        let meta = ctx.input_meta().iter();
        meta.filter(|(k, _)| !k.starts_with("X-")).map(|(k, v)| (k.into(), v.into())).collect()
    }

    /// Upper-cases the text.
    fn shout(&self, text: String) -> String {
        text.to_uppercase()
    }

    /// The middle of a segment.
    fn middle(&self, s: Segment) -> Point {
        Point { x: (s.from.x + s.to.x) / 2, y: (s.from.y + s.to.y) / 2 }
    }

    /// Keeps what was said.
    #[tp(push)]
    fn say(&self, ctx: &tp::PushCtx, text: String) {
        let _ = self.said.send((text, ctx.input_meta().clone()));
    }
}

/// A live peer serving [`Demo`] (and its manifest at `/_tp/manifest`, unless told not to).
pub(crate) struct Server {
    pub(crate) peer: tp::Peer,
    /// What `tp` dials: `host:port` or a socket path.
    pub(crate) addr: String,
    pub(crate) adds: Arc<AtomicUsize>,
    pub(crate) said: mpsc::UnboundedReceiver<Said>,
    unix_path: Option<PathBuf>,
}

impl Server {
    /// A TCP server with the raw protocol on 127.0.0.1:0, serving its manifest.
    pub(crate) async fn start() -> Server {
        Server::on(Network::Tcp, |config| tp::Peer::new(config).unwrap(), true).await
    }

    /// A server on `network`, built by `build` from a loopback configuration.
    pub(crate) async fn on(
        network: Network,
        build: impl FnOnce(tp::PeerConfig) -> tp::Peer,
        serve_manifest: bool,
    ) -> Server {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unix_path = network.is_unix().then(|| {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            std::env::temp_dir().join(format!("tp-cli-{}-{n}.sock", std::process::id()))
        });
        let config = tp::PeerConfig {
            network,
            local_ip: "127.0.0.1".into(),
            unix_path: unix_path.clone(),
            serve_manifest,
            ..tp::PeerConfig::default()
        };
        let peer = build(config);
        let (adds, (said_tx, said)) = (Arc::new(AtomicUsize::new(0)), mpsc::unbounded_channel());
        peer.route(Demo { adds: adds.clone(), said: said_tx });
        let addr = peer.listen().await.unwrap();
        let addr = match &unix_path {
            Some(path) => path.display().to_string(),
            None => addr.to_string(),
        };
        Server { peer, addr, adds, said, unix_path }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(path) = &self.unix_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// `tp` with these arguments, not yet started; killed if dropped.
pub(crate) fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tp"));
    command.args(args).stdin(Stdio::null()).kill_on_drop(true);
    command
}

/// Runs `tp` to its end.
pub(crate) async fn tp(args: &[&str]) -> Output {
    let run = command(args).output();
    tokio::time::timeout(GUARD, run).await.expect("tp did not end").expect("tp did not start")
}

/// Starts `tp` with its standard output and error piped.
pub(crate) fn spawn(args: &[&str]) -> Child {
    let mut command = command(args);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command.spawn().expect("tp did not start")
}

/// The exit code, standard output and standard error of a run.
pub(crate) fn parts(out: &Output) -> (Option<i32>, String, String) {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// Waits until `peer` has `n` sessions.
pub(crate) async fn sessions(peer: &tp::Peer, n: usize) {
    let wait = async {
        while peer.session_count() != n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(GUARD, wait).await.expect("the session did not come");
}

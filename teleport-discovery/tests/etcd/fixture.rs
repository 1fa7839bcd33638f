//! A real etcd server for one test: started on free loopback ports with a temporary data
//! directory, killed and removed on drop.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A running etcd.
pub struct Etcd {
    child: Child,
    dir: PathBuf,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The client and peer ports.
    ports: (u16, u16),
}

impl Etcd {
    /// Starts etcd and waits until it answers. Panics, saying how to install it, when the
    /// `etcd` binary is missing: these tests never pass without a real server.
    pub async fn start() -> Etcd {
        if Command::new("etcd").arg("--version").stdout(Stdio::null()).status().is_err() {
            panic!(
                "the etcd binary is missing: run scripts/etcd.sh (Debian's etcd-server) \
                 before the etcd tests{}",
                if std::env::var("CI").is_ok_and(|v| v == "true") { " (CI)" } else { "" }
            );
        }
        let mut last = String::new();
        for _ in 0..3 {
            match Self::try_start().await {
                Ok(etcd) => return etcd,
                Err(e) => last = e,
            }
        }
        panic!("etcd did not start: {last}");
    }

    async fn try_start() -> Result<Etcd, String> {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tp-etcd-{}-{n}", std::process::id()));
        let ports = (free_port(), free_port());
        let child = run(&dir, ports).await?;
        Ok(Etcd { child, dir, endpoint: endpoint(ports), ports })
    }

    /// Kills etcd and starts a new one, with no data, on the same ports: to its clients,
    /// the server went away and came back having forgotten every key and lease.
    pub async fn restart_empty(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let started = Instant::now();
        loop {
            match run(&self.dir, self.ports).await {
                Ok(child) => {
                    self.child = child;
                    return;
                }
                Err(e) if started.elapsed() > Duration::from_secs(20) => {
                    panic!("etcd did not restart: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

/// Starts etcd in `dir` (emptied first) on `ports` and waits until it answers.
async fn run(dir: &Path, (client, peer): (u16, u16)) -> Result<Child, String> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let endpoint = endpoint((client, peer));
    let peer_url = format!("http://127.0.0.1:{peer}");
    let log = std::fs::File::create(dir.join("etcd.log")).map_err(|e| e.to_string())?;
    let mut child = Command::new("etcd")
        .args(["--name", "test", "--data-dir"])
        .arg(dir.join("data"))
        .args(["--listen-client-urls", &endpoint, "--advertise-client-urls", &endpoint])
        .args(["--listen-peer-urls", &peer_url, "--initial-advertise-peer-urls", &peer_url])
        .args(["--initial-cluster", &format!("test={peer_url}")])
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(dir.join("etcd.log")).unwrap_or_default();
            let tail: String = log.lines().rev().take(5).collect::<Vec<_>>().join("\n");
            return Err(format!("etcd exited with {status}: {tail}"));
        }
        if answers(&endpoint).await {
            return Ok(child);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    Err("etcd did not answer within 20 s".to_owned())
}

async fn answers(endpoint: &str) -> bool {
    let options = etcd_client::ConnectOptions::new()
        .with_connect_timeout(Duration::from_millis(500))
        .with_timeout(Duration::from_millis(500));
    match etcd_client::Client::connect([endpoint], Some(options)).await {
        Ok(mut client) => client.get("probe", None).await.is_ok(),
        Err(_) => false,
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn endpoint((client, _): (u16, u16)) -> String {
    format!("http://127.0.0.1:{client}")
}

/// A port free now (bound, read, closed); a clash with another process is retried by
/// [`Etcd::start`].
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener.local_addr().expect("local address").port()
}

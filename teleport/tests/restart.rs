//! Graceful restart under load: a server process (this test binary, run again in the
//! server role) restarts on SIGUSR2 while clients keep connecting; no connect is refused.
#![cfg(unix)]

use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use teleport::peer::Network;
use teleport::restart::Restart;
use teleport::{Peer, PeerConfig};

/// Set in a process started as the server.
const ROLE: &str = "TP_RESTART_TEST_DIR";
/// Set for a server whose restarted copy fails before it is ready.
const FAIL: &str = "TP_RESTART_TEST_FAIL";
/// Set for a server on a Unix socket (in the test's directory) instead of TCP.
const UNIX: &str = "TP_RESTART_TEST_UNIX";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_restart_under_load_refuses_no_connect() {
    restart_under_load("graceful_restart_under_load_refuses_no_connect", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_restart_of_a_unix_socket_refuses_no_connect() {
    restart_under_load("graceful_restart_of_a_unix_socket_refuses_no_connect", true).await;
}

/// Runs the server role when this process was started as one; else starts a server,
/// loads it, restarts it, and checks that both generations served with no refused connect.
async fn restart_under_load(test: &str, unix: bool) {
    if let Some(dir) = std::env::var_os(ROLE) {
        return serve(PathBuf::from(dir)).await;
    }
    let dir = std::env::temp_dir().join(format!("tp-restart-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut processes = Processes { first: None, dir: dir.clone() };
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args([test, "--exact", "--nocapture"]).env(ROLE, &dir);
    if unix {
        command.env(UNIX, "1");
    }
    // The servers' own test harness output would read as this binary's results.
    let first = command.stdout(std::process::Stdio::null()).spawn().unwrap();
    let first_pid = first.id();
    processes.first = Some(first);
    let addr = wait_for_file(&dir.join("addr")).await;

    let network = if unix { Network::Unix } else { Network::Tcp };
    let client = Peer::new(PeerConfig { network, ..PeerConfig::default() }).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (refused, failed, done) = (Arc::default(), Arc::default(), Arc::default());
    let pids = Arc::new(parking_lot::Mutex::new(std::collections::BTreeMap::<u32, usize>::new()));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let load = Load {
                client: client.clone(),
                addr: addr.clone(),
                stop: stop.clone(),
                refused: Arc::clone(&refused),
                failed: Arc::clone(&failed),
                done: Arc::clone(&done),
                pids: pids.clone(),
            };
            tokio::spawn(load.run())
        })
        .collect();

    wait_until("calls before the restart", || done.load(Ordering::Relaxed) >= 300).await;
    signal("-USR2", first_pid);
    // The first process exits once the new one serves and its sessions have drained.
    let first = processes.first.as_mut().unwrap();
    let started = Instant::now();
    while first.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(60), "the old process never exited");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let after = done.load(Ordering::Relaxed);
    wait_until("calls after the restart", || done.load(Ordering::Relaxed) >= after + 300).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }

    let pids = pids.lock().clone();
    let (refused, failed) = (refused.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    eprintln!(
        "restart under load: {} sessions, {refused} refused connects, {failed} failed calls, \
         calls by process {pids:?}",
        done.load(Ordering::Relaxed)
    );
    assert_eq!(refused, 0, "connects refused during the restart");
    assert_eq!(pids.len(), 2, "both processes should have served: {pids:?}");
    assert!(pids.contains_key(&first_pid));
    let second = *pids.keys().find(|&&pid| pid != first_pid).unwrap();
    signal("-TERM", second);
    wait_until("the new process to exit", || !alive(second)).await;
    client.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_restart_leaves_the_old_process_serving() {
    if let Some(dir) = std::env::var_os(ROLE) {
        return serve(PathBuf::from(dir)).await;
    }
    let dir = std::env::temp_dir().join(format!("tp-restart-fail-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut processes = Processes { first: None, dir: dir.clone() };
    let first = Command::new(std::env::current_exe().unwrap())
        .args(["a_failed_restart_leaves_the_old_process_serving", "--exact", "--nocapture"])
        .env(ROLE, &dir)
        .env(FAIL, "1")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let first_pid = first.id();
    processes.first = Some(first);
    let addr = wait_for_file(&dir.join("addr")).await;
    let client = Peer::new(PeerConfig::default()).unwrap();
    let session = client.dial(&addr).await.unwrap();
    assert_eq!(session.call::<u32>("/pid", &()).await.unwrap(), first_pid);

    signal("-USR2", first_pid);
    wait_for_file(&dir.join("failing")).await;
    // The old process serves on, on the same socket and the session it had.
    for _ in 0..50 {
        let fresh = client.dial(&addr).await.expect("a connect was refused");
        assert_eq!(fresh.call::<u32>("/pid", &()).await.unwrap(), first_pid);
        fresh.close().await;
    }
    assert_eq!(session.call::<u32>("/pid", &()).await.unwrap(), first_pid);
    signal("-TERM", first_pid);
    let first = processes.first.as_mut().unwrap();
    let started = Instant::now();
    while first.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(30), "the server never exited");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    client.close().await;
}

/// The server role: serves `/pid` on an inherited or new socket, reports ready, restarts on
/// SIGUSR2, exits on SIGTERM.
async fn serve(dir: PathBuf) {
    let config = if std::env::var_os(UNIX).is_some() {
        let unix_path = Some(dir.join("server.sock"));
        PeerConfig { network: Network::Unix, unix_path, ..PeerConfig::default() }
    } else {
        PeerConfig { local_ip: "127.0.0.1".into(), listen_port: 0, ..PeerConfig::default() }
    };
    let peer = Peer::new(config).unwrap();
    peer.route_call_fn("/pid", |_ctx, (): ()| async move { Ok(std::process::id()) });
    let restart = Restart::from_env();
    if restart.is_restarted() && std::env::var_os(FAIL).is_some() {
        std::fs::write(dir.join("failing"), "").unwrap();
        std::process::exit(3);
    }
    let addr = restart.listen(&peer).await.unwrap();
    if !restart.is_restarted() {
        let dial = match &addr {
            teleport::transport::Addr::Unix(path) => path.clone(),
            other => other.to_string(),
        };
        std::fs::write(dir.join("addr.tmp"), dial).unwrap();
        std::fs::rename(dir.join("addr.tmp"), dir.join("addr")).unwrap();
    }
    std::fs::write(dir.join(format!("pid-{}", std::process::id())), "").unwrap();
    restart.ready().unwrap();
    restart.serve(&[peer], Duration::from_secs(10)).await;
}

/// Clients that each dial a new session, make one call on it and close it, until stopped.
struct Load {
    client: Peer,
    addr: String,
    stop: Arc<AtomicBool>,
    refused: Arc<AtomicUsize>,
    failed: Arc<AtomicUsize>,
    done: Arc<AtomicUsize>,
    pids: Arc<parking_lot::Mutex<std::collections::BTreeMap<u32, usize>>>,
}

impl Load {
    async fn run(self) {
        while !self.stop.load(Ordering::Relaxed) {
            let session = match self.client.dial(&self.addr).await {
                Ok(session) => session,
                Err(status) => {
                    eprintln!("connect refused: {status}");
                    self.refused.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            };
            match session.call::<u32>("/pid", &()).await {
                Ok(pid) => *self.pids.lock().entry(pid).or_default() += 1,
                Err(status) => {
                    eprintln!("call failed: {status}");
                    self.failed.fetch_add(1, Ordering::Relaxed);
                }
            }
            session.close().await;
            self.done.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Kills every server process left, on success or failure.
struct Processes {
    first: Option<Child>,
    dir: PathBuf,
}

impl Drop for Processes {
    fn drop(&mut self) {
        if let Some(first) = &mut self.first {
            let _ = first.kill();
            let _ = first.wait();
        }
        for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix("pid-").and_then(|p| p.parse::<u32>().ok()) {
                if alive(pid) {
                    signal("-KILL", pid);
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn signal(signal: &str, pid: u32) {
    let status = Command::new("kill").arg(signal).arg(pid.to_string()).status().unwrap();
    assert!(status.success(), "kill {signal} {pid} failed");
}

fn alive(pid: u32) -> bool {
    // A process that has exited but was not reaped (a zombie) counts as gone.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| stat.split_whitespace().nth(2).is_none_or(|state| state != "Z"))
        .unwrap_or_else(|_| {
            let probe = Command::new("kill")
                .arg("-0")
                .arg(pid.to_string())
                .stderr(std::process::Stdio::null())
                .status();
            probe.is_ok_and(|s| s.success())
        })
}

async fn wait_for_file(path: &std::path::Path) -> String {
    let started = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no {}", path.display());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let started = Instant::now();
    while !f() {
        assert!(started.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

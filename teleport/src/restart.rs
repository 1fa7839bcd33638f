//! Graceful restart (feature `restart`, Unix only), as Go Teleport's: on `SIGUSR2` a
//! process starts a new copy of itself that inherits its listening sockets, waits until the
//! copy serves, then stops accepting and drains its sessions. The listening sockets are
//! never closed in between, so no connection attempt is refused: connections the old
//! process no longer accepts wait in the shared backlog for the new one.
//!
//! The sockets are passed as systemd passes them: open from file descriptor 3 on, their
//! count in `LISTEN_FDS`. The new process says it is ready on a Unix socket whose path is
//! in `TELEPORT_RESTART_READY`. It is started with the same executable
//! ([`std::env::current_exe`]), arguments and environment, and must call
//! [`Restart::listen`] in the same order as the process before it.
//!
//! ```no_run
//! # async fn demo(peer: teleport::Peer) -> std::io::Result<()> {
//! use std::time::Duration;
//! use teleport::restart::Restart;
//!
//! let restart = Restart::from_env();
//! let addr = restart.listen(&peer).await?; // inherited, or bound from the config
//! restart.ready()?;                        // the previous process, if any, now drains
//! // SIGUSR2: restart; SIGINT or SIGTERM: shut down. Either way the peers drain.
//! restart.serve(&[peer], Duration::from_secs(30)).await;
//! # Ok(()) }
//! ```
//!
//! Listeners on TCP networks (`tcp`, `tcp4`, `tcp6`) and Unix sockets are handed over; a
//! process started by systemd socket activation takes its sockets the same way.

use std::collections::VecDeque;
use std::io;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use command_fds::{CommandFdExt, FdMapping};
use parking_lot::Mutex;
use tokio::io::AsyncBufReadExt;

use crate::peer::{ListenOptions, Network, Peer};
use crate::transport::Addr;
use crate::transport::tcp::{self, TcpListener};
use crate::transport::unix::{self, UnixListener};

/// A listening socket taken from the environment.
#[derive(Debug)]
enum Inherited {
    Tcp(std::net::TcpListener),
    Unix(std::os::unix::net::UnixListener),
}

/// The environment variable naming the Unix socket a new process reports ready on.
pub const READY_ENV: &str = "TELEPORT_RESTART_READY";

/// The first inherited descriptor, as in systemd's protocol.
const FIRST_FD: i32 = 3;

/// The listening sockets of this process: inherited ones to take, and all of them to hand
/// over on the next restart.
#[derive(Debug)]
pub struct Restart {
    inherited: Mutex<VecDeque<Inherited>>,
    /// A duplicate of every listening socket, in the order they were listened on.
    handed: Mutex<Vec<OwnedFd>>,
    ready_path: Option<PathBuf>,
    reported: AtomicBool,
    ready_timeout: Duration,
}

impl Restart {
    /// Takes the listening sockets passed by the previous process (or a service manager)
    /// through `LISTEN_FDS`; none when the variable is absent. A descriptor that is not a
    /// TCP listening socket is skipped with a warning.
    pub fn from_env() -> Self {
        let mut fds = listenfd::ListenFd::from_env();
        let mut inherited = VecDeque::new();
        for index in 0..fds.len() {
            if let Ok(Some(listener)) = fds.take_tcp_listener(index) {
                inherited.push_back(Inherited::Tcp(listener));
                continue;
            }
            match fds.take_unix_listener(index) {
                Ok(Some(listener)) => inherited.push_back(Inherited::Unix(listener)),
                Ok(None) => {}
                Err(e) => tracing::warn!(index, error = %e, "skipping an inherited descriptor"),
            }
        }
        if !inherited.is_empty() {
            tracing::info!(count = inherited.len(), "inherited listening sockets");
        }
        Restart {
            inherited: Mutex::new(inherited),
            handed: Mutex::new(Vec::new()),
            ready_path: std::env::var_os(READY_ENV).map(PathBuf::from),
            reported: AtomicBool::new(false),
            ready_timeout: Duration::from_secs(30),
        }
    }

    /// How long [`restart`](Self::restart) waits for the new process to be ready before
    /// killing it and going on serving. Default 30 s.
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Whether this process was started by a restart (it has a parent to tell).
    pub fn is_restarted(&self) -> bool {
        self.ready_path.is_some()
    }

    /// Listens as [`Peer::listen`] does, on the next inherited socket of the peer's kind
    /// (TCP, or Unix) if there is one, else on a socket bound from the peer's
    /// configuration; keeps a duplicate to hand over. TCP networks (`tcp`, `tcp4`, `tcp6`)
    /// and `unix` can be handed over. The file of a Unix socket stays after the last process
    /// exits; the next bind replaces it.
    pub async fn listen(&self, peer: &Peer) -> io::Result<Addr> {
        let config = peer.config();
        let is_unix = match config.network {
            Network::Tcp | Network::Tcp4 | Network::Tcp6 => false,
            Network::Unix => true,
            other => {
                let reason =
                    format!("graceful restart hands over TCP and Unix listeners, not {other}");
                return Err(io::Error::new(io::ErrorKind::Unsupported, reason));
            }
        };
        let inherited = {
            let mut inherited = self.inherited.lock();
            let position =
                inherited.iter().position(|i| matches!(i, Inherited::Unix(_)) == is_unix);
            position.and_then(|at| inherited.remove(at))
        };
        let listener: Box<dyn crate::transport::Listener> = match inherited {
            Some(Inherited::Tcp(listener)) => {
                self.keep(OwnedFd::from(listener.try_clone()?));
                Box::new(TcpListener::from_std(listener, peer.transports().socket)?)
            }
            Some(Inherited::Unix(listener)) => {
                self.keep(OwnedFd::from(listener.try_clone()?));
                Box::new(UnixListener::from_std(listener)?)
            }
            None => {
                let invalid = |e: String| io::Error::new(io::ErrorKind::InvalidInput, e);
                config.validate_listen().map_err(|e| invalid(e.to_string()))?;
                if is_unix {
                    let path =
                        config.unix_path.as_ref().ok_or_else(|| invalid("no unix_path".into()))?;
                    let listener = unix::listen(path, config.listen_backlog)?;
                    self.keep(OwnedFd::from(listener.try_clone()?));
                    Box::new(UnixListener::from_std(listener)?)
                } else {
                    let addr =
                        config.listen_addr().ok_or_else(|| invalid("no listen address".into()))?;
                    let listener = tcp::listen(&addr, config.listen_backlog).await?.into_std()?;
                    self.keep(OwnedFd::from(listener.try_clone()?));
                    Box::new(TcpListener::from_std(listener, peer.transports().socket)?)
                }
            }
        };
        Ok(peer.serve_listener(listener, ListenOptions::default()))
    }

    fn keep(&self, fd: OwnedFd) {
        self.handed.lock().push(fd);
    }

    /// Tells the process that started this one, if any, that this one serves: that one
    /// then stops accepting and drains. Call it once every listener is up; later calls do
    /// nothing.
    pub fn ready(&self) -> io::Result<()> {
        let Some(path) = &self.ready_path else { return Ok(()) };
        if self.reported.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let mut stream = std::os::unix::net::UnixStream::connect(path)?;
        io::Write::write_all(&mut stream, format!("ready {}\n", std::process::id()).as_bytes())
    }

    /// Starts the new process with this one's listening sockets and waits until it reports
    /// ready; returns its process id. The caller then shuts its peers down. If the new
    /// process exits or is not ready within the timeout, it is killed and this one goes on
    /// serving.
    pub async fn restart(&self) -> io::Result<u32> {
        let path = std::env::temp_dir().join(format!(
            "teleport-restart-{}-{}.sock",
            std::process::id(),
            unique()
        ));
        let _ = std::fs::remove_file(&path);
        let ready = tokio::net::UnixListener::bind(&path)?;
        let _remove = RemoveOnDrop(path.clone());
        let mut child = self.spawn(&path)?;
        let pid = child.id();
        tracing::info!(pid, "restarting: new process started");
        match tokio::time::timeout(self.ready_timeout, wait_ready(&ready, &mut child)).await {
            Ok(Ok(())) => {
                tracing::info!(pid, "restarting: new process ready");
                Ok(pid)
            }
            failed => {
                let _ = child.kill();
                let _ = child.wait();
                let reason = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("not ready within {:?}", self.ready_timeout),
                };
                tracing::error!(pid, %reason, "restart failed; serving on");
                Err(io::Error::other(format!("the new process failed: {reason}")))
            }
        }
    }

    fn spawn(&self, ready_path: &std::path::Path) -> io::Result<Child> {
        let handed = self.handed.lock();
        let mut mappings = Vec::with_capacity(handed.len());
        for (i, fd) in handed.iter().enumerate() {
            mappings.push(FdMapping { parent_fd: fd.try_clone()?, child_fd: FIRST_FD + i as i32 });
        }
        let mut command = Command::new(std::env::current_exe()?);
        command
            .args(std::env::args_os().skip(1))
            .env("LISTEN_FDS", handed.len().to_string())
            .env_remove("LISTEN_PID")
            .env_remove("LISTEN_FDS_FIRST_FD")
            .env_remove("LISTEN_FDNAMES")
            .env(READY_ENV, ready_path);
        command
            .fd_mappings(mappings)
            .map_err(|_| io::Error::other("two inherited sockets for one descriptor"))?;
        command.spawn()
    }

    /// Serves until a signal: on `SIGUSR2`, restarts (a failed restart goes on serving),
    /// then drains; on `SIGINT` or `SIGTERM`, shuts `peers` down with `grace`.
    ///
    /// Draining after a restart stops accepting (the new process takes the connections),
    /// lets the accepted sessions run until their clients close them or `grace` has
    /// passed, then shuts the peers down with what is left of `grace`.
    pub async fn serve(&self, peers: &[Peer], grace: Duration) {
        use tokio::signal::unix::{SignalKind, signal};
        let signals = (
            signal(SignalKind::user_defined2()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        );
        let (Ok(mut usr2), Ok(mut int), Ok(mut term)) = signals else {
            tracing::error!("cannot listen for signals; serving until shut down");
            futures_util::future::join_all(peers.iter().map(Peer::stopped)).await;
            return;
        };
        let restarted = loop {
            tokio::select! {
                _ = usr2.recv() => if self.restart().await.is_ok() { break true },
                _ = int.recv() => break false,
                _ = term.recv() => break false,
            }
        };
        let deadline = tokio::time::Instant::now() + grace;
        if restarted {
            drain(peers, deadline).await;
        }
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        tracing::info!(grace = ?left, "shutting down");
        futures_util::future::join_all(peers.iter().map(|p| p.shutdown(left))).await;
    }
}

/// Stops accepting and waits, until `deadline`, for the sessions the peers accepted to be
/// closed by their clients (sessions the peers dialed themselves are not waited for).
async fn drain(peers: &[Peer], deadline: tokio::time::Instant) {
    futures_util::future::join_all(peers.iter().map(Peer::stop_accepting)).await;
    let accepted =
        || peers.iter().flat_map(Peer::sessions).filter(|session| !session.is_dialed()).count();
    tracing::info!(sessions = accepted(), "draining");
    while accepted() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits for the new process's report, or its exit.
async fn wait_ready(ready: &tokio::net::UnixListener, child: &mut Child) -> io::Result<()> {
    let report = async {
        let (stream, _) = ready.accept().await?;
        let mut line = String::new();
        tokio::io::BufReader::new(stream).read_line(&mut line).await?;
        if line.starts_with("ready") {
            Ok(())
        } else {
            Err(io::Error::other(format!("unexpected report {line:?}")))
        }
    };
    let exited = async {
        loop {
            if let Some(status) = child.try_wait()? {
                return Err(io::Error::other(format!("it exited with {status}")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::select! {
        reported = report => reported,
        exited = exited => exited,
    }
}

fn unique() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

//! The server a run talks to: started by the client as a child process (this same program
//! with `--serve`), or already running elsewhere (`-s`, with `--server-pid` to measure it).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use teleport_bench::row::Kind;
use teleport_bench::serve::ServerOptions;

/// The server of one run.
pub(crate) struct Target {
    /// Where to dial.
    pub(crate) addr: String,
    /// Its process id, to read its CPU time and memory in `/proc`.
    pub(crate) pid: Option<String>,
    child: Option<Child>,
    socket_path: Option<String>,
}

impl Target {
    /// A server someone else started.
    pub(crate) fn external(addr: String, pid: Option<String>) -> Self {
        Target { addr, pid, child: None, socket_path: None }
    }

    /// Starts a server as a child process and waits until it listens. The child exits when
    /// its standard input closes, that is when this target is dropped or the client dies.
    pub(crate) fn spawn(options: &ServerOptions) -> std::io::Result<Self> {
        let mut options = options.clone();
        options.exit_on_eof = true;
        let mut child = Command::new(std::env::current_exe()?)
            .arg("--serve")
            .args(server_args(&options))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout).read_line(&mut line)?;
        }
        let Some(addr) = line.trim().strip_prefix("listening ") else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other(format!("the server did not start: {line:?}")));
        };
        let socket_path =
            (options.network == teleport_bench::cli::Network::Unix).then(|| options.addr.clone());
        Ok(Target {
            addr: addr.to_owned(),
            pid: Some(child.id().to_string()),
            child: Some(child),
            socket_path,
        })
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            drop(child.stdin.take());
            let _ = child.wait();
        }
        if let Some(path) = &self.socket_path {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The arguments that start a server like the one `options` describe.
fn server_args(options: &ServerOptions) -> Vec<String> {
    let mut args = vec![
        "-s".to_owned(),
        options.addr.clone(),
        "--network".to_owned(),
        options.network.to_string(),
        "--codec".to_owned(),
        options.codec.name().to_owned(),
        "--threads".to_owned(),
        options.threads.to_string(),
    ];
    match options.kind {
        Kind::Teleport => {}
        Kind::Ceiling => args.push("--raw".to_owned()),
        Kind::CodecCeiling => args.push("--codec-ceiling".to_owned()),
    }
    if options.exit_on_eof {
        args.push("--exit-on-eof".to_owned());
    }
    for (flag, path) in [("--cert", &options.cert), ("--key", &options.key)] {
        if let Some(path) = path {
            args.push(flag.to_owned());
            args.push(path.display().to_string());
        }
    }
    args
}

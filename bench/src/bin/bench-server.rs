//! `bench-server`: the server of Teleport's benchmark, serving `Hello.Say` through
//! `#[tp::service(mapper = "rpc")]`, or the raw ceiling with `--raw` (the codec ceiling with
//! `--codec-ceiling`). `bench-client` starts one by itself; run this one to measure a server
//! you start yourself:
//!
//! ```text
//! cargo run --release -p teleport-bench --bin bench-server -- -s 127.0.0.1:8199 &
//! cargo run --release -p teleport-bench --bin bench-client -- -s 127.0.0.1:8199 --server-pid $!
//! ```
//!
//! On `tls`, `quic` and `wss`, without `--cert` and `--key`, it makes a self-signed
//! certificate and prints on stderr the file to give the client's `--ca`.

use std::process::ExitCode;

use teleport_bench::cli::Args;
use teleport_bench::serve::ServerOptions;

const USAGE: &str = "\
usage: bench-server [options]
  -s ADDR          listen on host:port (default 127.0.0.1:8199), or a socket path with unix
  --codec NAME     protobuf (default), json or bincode
  --network NAME   tcp (default), unix, tls, quic, ws or wss
  --cert PATH      with tls, quic, wss: the certificate (PEM) to present; without it and
  --key PATH       its key, a self-signed one is made and its path printed on stderr
  --threads T      worker threads (default: one per core)
  --raw            serve the raw ceiling: echo whole frames over plain sockets (tcp, unix)
  --codec-ceiling  serve the codec ceiling: decode each call's message with prost, answer
                   it and encode the reply, over plain sockets (tcp, unix)
  --exit-on-eof    exit when standard input closes";

fn main() -> ExitCode {
    let mut args = Args::from_env();
    let mut options = ServerOptions::default();
    while let Some(flag) = args.next_flag() {
        let problem = match options.parse_flag(&flag, &mut args) {
            Ok(true) => continue,
            Ok(false) if flag == "-h" || flag == "--help" => None,
            Ok(false) => Some(format!("unknown flag {flag}")),
            Err(e) => Some(e),
        };
        if let Some(problem) = problem {
            eprintln!("bench-server: {problem}\n");
        }
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    }
    match teleport_bench::serve::run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-server: {e}");
            ExitCode::FAILURE
        }
    }
}

//! `tp`: a command-line client for teleport and Go eRPC v6 peers.
//!
//! ```text
//! tp routes 127.0.0.1:9090                       # the routes, from the peer's manifest
//! tp call 127.0.0.1:9090 /math/add '[1,2,3]'     # prints 6
//! tp push 127.0.0.1:9090 /chat/say '"hi"'
//! tp listen 127.0.0.1:9090 | jq .body            # the pushes the peer sends
//! ```
//!
//! `tp --help` and `tp <command> --help` list every option and the exit codes.

mod args;
mod body;
mod connect;
mod failure;
mod listen;
mod manifest;
mod output;
mod routes;
mod schema;
mod send;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};
use failure::Failure;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("tp: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("tp: {failure}");
            failure.exit_code()
        }
    }
}

async fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Routes(args) => routes::run(args).await,
        Command::Call(args) => send::call(args).await,
        Command::Push(args) => send::push(args).await,
        Command::Listen(args) => listen::run(args).await,
    }
}

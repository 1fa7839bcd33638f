//! Why a command failed, and the exit code each reason gives (listed in `tp --help`).

use std::fmt;
use std::process::ExitCode;

use teleport::Status;

/// A failed command: printed on standard error as `tp: {self}`.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The command line or the argument is wrong (not JSON, refused by the schema...):
    /// exit 2.
    Input(String),
    /// The peer could not be reached: exit 3.
    Unreachable(Status),
    /// The peer answered an error status, the timeout passed or the connection ended:
    /// exit 1, with what failed.
    Status {
        /// What was being done (`call /math/add`).
        what: String,
        /// The status.
        status: Status,
    },
    /// Anything else that stops the command (a manifest that does not parse...): exit 1.
    Other(String),
}

impl Failure {
    /// A status that ended `what`.
    pub(crate) fn status(what: impl Into<String>, status: Status) -> Self {
        Failure::Status { what: what.into(), status }
    }

    /// The process's exit code.
    pub(crate) fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Failure::Status { .. } | Failure::Other(_) => 1,
            Failure::Input(_) => 2,
            Failure::Unreachable(_) => 3,
        })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Input(reason) | Failure::Other(reason) => f.write_str(reason),
            Failure::Unreachable(status) => write!(f, "cannot reach the peer: {status}"),
            Failure::Status { what, status } => write!(f, "{what} failed: {status}"),
        }
    }
}

//! Standard output, written so that a reader that goes away (`tp listen | head -1`) ends
//! the command quietly instead of failing it.

use std::io::{ErrorKind, Write};

use crate::failure::Failure;

/// Whether the text reached standard output: `false` when its reader has gone.
pub(crate) fn print(text: &str) -> Result<bool, Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(Failure::Other(format!("cannot write to standard output: {e}"))),
    }
}

/// Prints `value` as pretty JSON and a newline.
pub(crate) fn pretty(value: &impl serde::Serialize) -> Result<(), Failure> {
    let json = serde_json::to_string_pretty(value).map_err(|e| Failure::Other(e.to_string()))?;
    print(&(json + "\n")).map(drop)
}

//! [`Status`]: the outcome of a call, as it travels on the wire.

use std::fmt;

use bytes::BufMut;

use crate::urlenc::{self, MetaError};

/// A status code. The numbers are Go eRPC's, so Go and Rust peers agree on them.
pub type Code = i32;

/// An error with no more specific code.
pub const CODE_UNKNOWN_ERROR: Code = -1;
/// Success.
pub const CODE_OK: Code = 0;
/// The operation is not valid in the current state.
pub const CODE_INVALID_OP: Code = 1;
/// The session is not the one the message was meant for.
pub const CODE_WRONG_CONN: Code = 100;
/// The connection closed before the call ended.
pub const CODE_CONN_CLOSED: Code = 102;
/// The message could not be written (for example it exceeds the frame limit).
pub const CODE_WRITE_FAILED: Code = 104;
/// The connection could not be established.
pub const CODE_DIAL_FAILED: Code = 105;
/// The message or its body could not be decoded.
pub const CODE_BAD_MESSAGE: Code = 400;
/// The session is not authenticated.
pub const CODE_UNAUTHORIZED: Code = 401;
/// No route matches the service method.
pub const CODE_NOT_FOUND: Code = 404;
/// The message type is not allowed here.
pub const CODE_MTYPE_NOT_ALLOWED: Code = 405;
/// The call's timeout passed before its reply arrived.
pub const CODE_HANDLE_TIMEOUT: Code = 408;
/// The handler failed (for example it panicked).
pub const CODE_INTERNAL_SERVER_ERROR: Code = 500;
/// A proxy could not reach its upstream.
pub const CODE_BAD_GATEWAY: Code = 502;

/// The peer is shutting down or overloaded; try again later. A teleport extension: Go eRPC
/// defines no such code, and reads it as any other.
pub const CODE_SERVICE_UNAVAILABLE: Code = 503;

/// A message went round in circles: it was forwarded more times than the peer's
/// `max_hops` allows (a proxy pointed at itself, or two proxies at each other). A teleport
/// extension, numbered as HTTP's Loop Detected.
pub const CODE_LOOP_DETECTED: Code = 508;

/// The standard text of a code, as Go eRPC writes it, or `None` for a custom code.
pub fn code_text(code: Code) -> Option<&'static str> {
    Some(match code {
        CODE_UNKNOWN_ERROR => "Unknown Error",
        CODE_OK => "OK",
        CODE_INVALID_OP => "Invalid Operation",
        CODE_WRONG_CONN => "Wrong Connection",
        CODE_CONN_CLOSED => "Connection Closed",
        CODE_WRITE_FAILED => "Write Failed",
        CODE_DIAL_FAILED => "Dial Failed",
        CODE_BAD_MESSAGE => "Bad Message",
        CODE_UNAUTHORIZED => "Unauthorized",
        CODE_NOT_FOUND => "Not Found",
        CODE_MTYPE_NOT_ALLOWED => "Message Type Not Allowed",
        CODE_HANDLE_TIMEOUT => "Handle Timeout",
        CODE_INTERNAL_SERVER_ERROR => "Internal Server Error",
        CODE_BAD_GATEWAY => "Bad Gateway",
        CODE_SERVICE_UNAVAILABLE => "Service Unavailable",
        CODE_LOOP_DETECTED => "Loop Detected",
        _ => return None,
    })
}

/// The outcome of a call: a code, a message for people, and an optional cause.
///
/// `Status::OK` is success. Every other code is an error that a handler returns, a plugin
/// raises, or the runtime reports (a timeout, a closed connection...). On the wire a status
/// is written as `code=N&msg=...&cause=...` (see [`Status::encode_into`]).
///
/// A cause that is set but empty is kept apart from no cause, because Go eRPC writes the
/// two differently (`cause=` versus nothing) and we reproduce its frames byte for byte.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Status {
    code: Code,
    /// The message and the cause; `None` when the message is empty and no cause is set, as
    /// in `Status::OK`: a status is two words, and so is the error of every `Result` that
    /// carries one.
    text: Option<Box<StatusText>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct StatusText {
    msg: String,
    cause: Option<String>,
}

impl Status {
    /// Success.
    pub const OK: Status = Status { code: CODE_OK, text: None };

    /// A status with a code, a message and no cause.
    pub fn new(code: Code, msg: impl Into<String>) -> Self {
        Status::from_parts(code, msg.into(), None)
    }

    /// A status with the code's standard text (as Go's `NewStatus(code, "", cause)` gives
    /// through its code table) and a cause.
    pub fn with_code(code: Code, cause: impl Into<String>) -> Self {
        let msg = code_text(code).unwrap_or_default().to_owned();
        Status::from_parts(code, msg, Some(cause.into()))
    }

    fn from_parts(code: Code, msg: String, cause: Option<String>) -> Self {
        let text =
            (!msg.is_empty() || cause.is_some()).then(|| Box::new(StatusText { msg, cause }));
        Status { code, text }
    }

    /// A `500 Internal Server Error` whose cause is `error`'s text: for a handler's error
    /// type that has no `From` conversion into `Status`, such as `std::io::Error` or
    /// `anyhow::Error`: `file.read(..).map_err(Status::from_error)?`. The alternate form
    /// (`{:#}`) is written, so anyhow's chain of causes is kept.
    pub fn from_error(error: impl fmt::Display) -> Self {
        Status::with_code(CODE_INTERNAL_SERVER_ERROR, format!("{error:#}"))
    }

    /// Sets the cause, returning the status.
    pub fn cause(self, cause: impl Into<String>) -> Self {
        let msg = self.text.map(|text| text.msg).unwrap_or_default();
        Status::from_parts(self.code, msg, Some(cause.into()))
    }

    /// The code.
    pub fn code(&self) -> Code {
        self.code
    }

    /// The message for people (`Not Found`, `Bad Message`...).
    pub fn msg(&self) -> &str {
        self.text.as_ref().map_or("", |text| &text.msg)
    }

    /// The cause, if one was set (it may be set and empty).
    pub fn cause_text(&self) -> Option<&str> {
        self.text.as_ref().and_then(|text| text.cause.as_deref())
    }

    /// Whether this is success.
    pub fn is_ok(&self) -> bool {
        self.code == CODE_OK
    }

    /// Turns success into `Ok(())` and any other status into `Err(self)`.
    pub fn into_result(self) -> Result<(), Status> {
        if self.is_ok() { Ok(()) } else { Err(self) }
    }

    /// Writes the status as Go eRPC does: `code` always, `msg` when not empty, `cause` when
    /// set, each value percent-encoded.
    pub fn encode_into(&self, dst: &mut impl BufMut) {
        if self.code == CODE_OK && self.text.is_none() {
            dst.put_slice(b"code=0");
            return;
        }
        dst.put_slice(b"code=");
        dst.put_slice(itoa::Buffer::new().format(self.code).as_bytes());
        if !self.msg().is_empty() {
            dst.put_slice(b"&msg=");
            urlenc::encode_into(self.msg().as_bytes(), dst);
        }
        if let Some(cause) = self.cause_text() {
            dst.put_slice(b"&cause=");
            urlenc::encode_into(cause.as_bytes(), dst);
        }
    }

    /// Reads a status written by [`Status::encode_into`] (or by Go). An empty input is OK;
    /// unknown keys are ignored.
    pub fn decode(src: &[u8]) -> Result<Status, MetaError> {
        if src.is_empty() || src == b"code=0" {
            return Ok(Status::OK);
        }
        let (mut code, mut msg, mut cause) = (CODE_OK, String::new(), None);
        for (key, value) in urlenc::pairs(src) {
            let value = urlenc::decode(value)?;
            match key {
                b"code" => code = value.parse().map_err(|_| MetaError::BadCode(value.clone()))?,
                b"msg" => msg = value,
                b"cause" => cause = Some(value),
                _ => {}
            }
        }
        Ok(Status::from_parts(code, msg, cause))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "status {}", self.code)?;
        if !self.msg().is_empty() {
            write!(f, " {}", self.msg())?;
        }
        match self.cause_text() {
            Some(cause) if !cause.is_empty() => write!(f, ": {cause}"),
            _ => Ok(()),
        }
    }
}

impl fmt::Debug for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Status")
            .field("code", &self.code)
            .field("msg", &self.msg())
            .field("cause", &self.cause_text())
            .finish()
    }
}

impl std::error::Error for Status {}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(status: &Status) -> String {
        let mut out = Vec::new();
        status.encode_into(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn ok_is_written_as_code_zero() {
        assert_eq!(encoded(&Status::OK), "code=0");
        assert_eq!(Status::decode(b"").unwrap(), Status::OK);
        assert_eq!(Status::decode(b"code=0").unwrap(), Status::OK);
    }

    #[test]
    fn empty_cause_is_written_when_set() {
        let status = Status::with_code(CODE_NOT_FOUND, "");
        assert_eq!(encoded(&status), "code=404&msg=Not%20Found&cause=");
        assert_eq!(Status::decode(encoded(&status).as_bytes()).unwrap(), status);
    }

    #[test]
    fn custom_status_escapes_cause() {
        let status = Status::new(10005, "custom").cause("a b&c=d");
        assert_eq!(encoded(&status), "code=10005&msg=custom&cause=a%20b%26c%3Dd");
        assert_eq!(Status::decode(encoded(&status).as_bytes()).unwrap(), status);
    }

    #[test]
    fn bad_code_is_an_error() {
        assert!(Status::decode(b"code=x").is_err());
    }

    #[test]
    fn display_names_code_msg_and_cause() {
        let status = Status::with_code(CODE_BAD_MESSAGE, "eof");
        assert_eq!(status.to_string(), "status 400 Bad Message: eof");
    }

    #[test]
    fn from_error_is_a_500_with_the_error_as_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no file x");
        let status = Status::from_error(io);
        assert_eq!(
            (status.code(), status.msg(), status.cause_text()),
            (CODE_INTERNAL_SERVER_ERROR, "Internal Server Error", Some("no file x"))
        );
        let result: Result<(), Status> = "x".parse::<i32>().map(drop).map_err(Status::from_error);
        assert_eq!(result.unwrap_err().cause_text(), Some("invalid digit found in string"));
    }
}

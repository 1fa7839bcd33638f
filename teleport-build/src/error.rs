//! [`Error`]: what went wrong, where (the file and the key or item in it).

use std::fmt;
use std::path::{Path, PathBuf};

/// Why client code could not be generated: the file, where in it (a key such as
/// `services[0].routes[1].arg.rust`, or an item of a source file), and what is wrong.
/// A build script shows it as the build error: fix the input at that place.
pub struct Error {
    file: PathBuf,
    at: String,
    message: String,
}

impl Error {
    pub(crate) fn new(file: &Path, at: impl Into<String>, message: impl Into<String>) -> Self {
        Error { file: file.to_owned(), at: at.into(), message: message.into() }
    }

    /// The file that has the problem.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Where in the file: a manifest key (`services[0].routes[1].kind`), a source item
    /// (`trait Math`), a line and column, or `""` for the file as a whole.
    pub fn at(&self) -> &str {
        &self.at
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if !self.at.is_empty() {
            write!(f, ": {}", self.at)?;
        }
        write!(f, ": {}", self.message)
    }
}

// A build script that returns the error shows it with `Debug`: the same text as `Display`.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Error {}

/// A key below `parent`: `parent.name`, or `name` at the top.
pub(crate) fn key(parent: &str, name: &str) -> String {
    if parent.is_empty() { name.to_owned() } else { format!("{parent}.{name}") }
}

/// The `index`th element of the array at `parent`: `parent[index]`.
pub(crate) fn index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

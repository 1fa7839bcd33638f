//! Typed teleport clients generated at build time, for a crate that cannot depend on the
//! crate that holds the service:
//!
//! - from a **manifest**, the JSON a peer serves at `/_tp/manifest` (see
//!   `teleport::manifest`) or one written by hand for a Go eRPC service: the argument and
//!   reply types are generated too (serde structs from their JSON Schemas), so the client
//!   needs neither the server's crate nor its types;
//! - from the **Rust source** of `#[tp::service]` traits or impl blocks: their types are
//!   mapped to the client's with [`Builder::extern_path`].
//!
//! Either way the routes and stubs come from the parser and generator of `#[tp::service]`
//! itself (the `teleport-codegen` crate), so they are the same as the macro's.
//!
//! In `build.rs` (with `teleport-build` under `[build-dependencies]`):
//!
//! ```no_run
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let builder = teleport_build::Builder::new();
//!     builder.manifest("math.manifest.json", "math")?;
//!     builder.extern_path("Entry", "::my_types::Entry").source("../api/src/kv.rs", "kv")?;
//!     Ok(())
//! }
//! ```
//!
//! and in the crate, one line each: `teleport::include_client!("math");` brings
//! `MathClient` (and the manifest's types) in scope.
//!
//! A manifest that does not parse, a route type that names a type no schema or
//! `extern_path` defines, or a source whose `#[service]` has errors, is an [`Error`]
//! naming the file and the key (`services[0].routes[1].arg.rust`) or item where it is.

mod error;
mod manifest;
mod schema;
mod source;
mod types;

use std::path::{Path, PathBuf};

pub use error::Error;

/// Generates client code into the build script's `OUT_DIR`. Cheap to clone; each setter
/// returns the builder.
#[derive(Clone, Debug)]
pub struct Builder {
    options: Options,
    out_dir: Option<PathBuf>,
}

/// What shapes the generated code, whatever its input.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    pub(crate) extern_paths: Vec<(String, String)>,
    krate: String,
}

impl Options {
    pub(crate) fn krate(&self) -> Result<syn::Path, Error> {
        syn::parse_str(&self.krate).map_err(|e| {
            Error::new(
                Path::new("build.rs"),
                "crate_path",
                format!("`{}` is not a path: {e}", self.krate),
            )
        })
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// A builder naming the runtime `::teleport`, with no type mapping, writing to
    /// `OUT_DIR`.
    pub fn new() -> Self {
        Builder {
            options: Options { extern_paths: Vec::new(), krate: "::teleport".to_owned() },
            out_dir: None,
        }
    }

    /// Maps a type as a service writes it (`Entry`, `api::Entry`; the path without generic
    /// arguments) to the Rust path the client uses for it (`::kv_types::Entry`). A route
    /// type that names neither a standard type, a mapped one nor one a manifest's schema
    /// defines is an error.
    pub fn extern_path(mut self, name: impl Into<String>, rust_path: impl Into<String>) -> Self {
        self.options.extern_paths.push((name.into(), rust_path.into()));
        self
    }

    /// The path the generated code names the runtime by: `::teleport` by default; set it
    /// when the client renames the dependency.
    pub fn crate_path(mut self, path: impl Into<String>) -> Self {
        self.options.krate = path.into();
        self
    }

    /// Where the files go: `OUT_DIR` (set by cargo for build scripts) by default.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Generates the clients (and types) of the manifest file at `path` into
    /// `{out_dir}/{name}.rs`, for `teleport::include_client!("{name}")`; returns that path.
    pub fn manifest(&self, path: impl AsRef<Path>, name: &str) -> Result<PathBuf, Error> {
        self.write(path.as_ref(), name, Builder::manifest_code)
    }

    /// Generates the clients of every `#[service]` trait and impl block in the Rust file at
    /// `path` into `{out_dir}/{name}.rs`, for `teleport::include_client!("{name}")`;
    /// returns that path.
    pub fn source(&self, path: impl AsRef<Path>, name: &str) -> Result<PathBuf, Error> {
        self.write(path.as_ref(), name, Builder::source_code)
    }

    /// The code generated from a manifest's text; `file` names it in errors.
    pub fn manifest_code(&self, text: &str, file: &Path) -> Result<String, Error> {
        Ok(manifest::generate(text, file, &self.options)?.to_string())
    }

    /// The code generated from a Rust source's text; `file` names it in errors.
    pub fn source_code(&self, text: &str, file: &Path) -> Result<String, Error> {
        Ok(source::generate(text, file, &self.options)?.to_string())
    }

    fn write(
        &self,
        path: &Path,
        name: &str,
        generate: fn(&Self, &str, &Path) -> Result<String, Error>,
    ) -> Result<PathBuf, Error> {
        if name.is_empty() || name.contains(['/', '\\']) {
            return Err(Error::new(path, "", format!("`{name}` cannot name the generated file")));
        }
        // Inside a build script, cargo runs it again when the input changes.
        if std::env::var_os("CARGO_MANIFEST_DIR").is_some() && self.out_dir.is_none() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::new(path, "", format!("cannot read it: {e}")))?;
        let code = generate(self, &text, path)?;
        let dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR").map(PathBuf::from).ok_or_else(|| {
                Error::new(path, "", "OUT_DIR is not set: run from a build script, or set out_dir")
            })?,
        };
        let out = dir.join(format!("{name}.rs"));
        let header =
            format!("// Generated by teleport-build from {}. Do not edit.\n", path.display());
        std::fs::write(&out, header + &code)
            .map_err(|e| Error::new(&out, "", format!("cannot write it: {e}")))?;
        Ok(out)
    }
}

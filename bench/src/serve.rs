//! The benchmark server: teleport serving `Hello.Say`, or one of the ceilings over plain
//! tokio sockets ([`crate::ceiling`]). It prints `listening <address>` once it accepts
//! connections, which is how a client that started it learns where to dial.
//!
//! On the TLS networks (`tls`, `quic`, `wss`) it presents the certificate of `--cert` and
//! `--key`; without them it makes a self-signed one and says on stderr where it wrote it, for
//! the client's `--ca`.

use std::io::Write as _;
use std::path::PathBuf;

use teleport::{Peer, PeerConfig};

use crate::ceiling;
use crate::certs::{CertDir, server_tls};
use crate::cli::{Args, Codec, Network, runtime};
use crate::hello::{Hello, HelloSerde};
use crate::row::Kind;

/// How the server runs.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Where to listen: `host:port` (port 0 picks one) or a socket path.
    pub addr: String,
    /// The transport.
    pub network: Network,
    /// The body codec `Hello.Say` is served in.
    pub codec: Codec,
    /// What to serve: teleport, or one of the ceilings.
    pub kind: Kind,
    /// Worker threads of the runtime (0: one per core).
    pub threads: usize,
    /// Exit when standard input closes: set by a client that started this server, so that
    /// the server never outlives it.
    pub exit_on_eof: bool,
    /// The certificate (PEM) presented on the TLS networks.
    pub cert: Option<PathBuf>,
    /// Its private key (PEM).
    pub key: Option<PathBuf>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            addr: "127.0.0.1:8199".to_owned(),
            network: Network::Tcp,
            codec: Codec::Protobuf,
            kind: Kind::Teleport,
            threads: 0,
            exit_on_eof: false,
            cert: None,
            key: None,
        }
    }
}

impl ServerOptions {
    /// Takes `flag` (and its value) if it is a server flag; returns whether it was.
    pub fn parse_flag(&mut self, flag: &str, args: &mut Args) -> Result<bool, String> {
        match flag {
            "-s" | "--addr" => self.addr = args.value(flag)?,
            "--network" => self.network = args.value(flag)?,
            "--codec" => self.codec = args.value(flag)?,
            "--raw" => self.kind = Kind::Ceiling,
            "--codec-ceiling" => self.kind = Kind::CodecCeiling,
            "--threads" => self.threads = args.value(flag)?,
            "--exit-on-eof" => self.exit_on_eof = true,
            "--cert" => self.cert = Some(args.value(flag)?),
            "--key" => self.key = Some(args.value(flag)?),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Runs the server until it is interrupted (or, with `exit_on_eof`, its input closes).
pub fn run(options: &ServerOptions) -> Result<(), Box<dyn std::error::Error>> {
    let rt = runtime(options.threads)?;
    rt.block_on(async {
        // Kept until the server exits: its certificate files, when it made them.
        let mut made_certs = None;
        let addr = match options.kind {
            Kind::Teleport => listen(options, &mut made_certs).await?,
            ceiling => listen_ceiling(options, ceiling).await?,
        };
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening {addr}")?;
        stdout.flush()?;
        drop(stdout);
        if options.exit_on_eof {
            tokio::task::spawn_blocking(|| {
                std::io::copy(&mut std::io::stdin(), &mut std::io::sink())
            })
            .await??;
        } else {
            tokio::signal::ctrl_c().await?;
        }
        Ok(())
    })
}

/// Starts teleport serving `Hello.Say` in the chosen codec; returns the address to dial.
/// A self-signed certificate it had to make is left in `made`.
async fn listen(
    options: &ServerOptions,
    made: &mut Option<CertDir>,
) -> Result<String, Box<dyn std::error::Error>> {
    let network = options.network;
    let mut config = PeerConfig {
        network: network.teleport(),
        default_body_codec: options.codec.name().to_owned(),
        ..PeerConfig::default()
    };
    if network == Network::Unix {
        let _ = std::fs::remove_file(&options.addr);
        config.unix_path = Some(PathBuf::from(&options.addr));
    } else {
        let addr: std::net::SocketAddr = options.addr.parse()?;
        config.local_ip = addr.ip().to_string();
        config.listen_port = addr.port();
    }
    let mut builder = Peer::builder(config);
    if network.secure() {
        let tls = match (&options.cert, &options.key) {
            (Some(cert), Some(key)) => server_tls(cert, key)?,
            (None, None) => {
                let dir = made.insert(CertDir::generate("bench-server")?);
                eprintln!(
                    "bench-server: self-signed certificate in {} (bench-client --ca {})",
                    dir.cert.display(),
                    dir.cert.display()
                );
                server_tls(&dir.cert, &dir.key)?
            }
            _ => return Err("--cert and --key go together".into()),
        };
        builder = builder.tls(tls);
    }
    let peer = builder.build()?;
    match options.codec {
        Codec::Protobuf => peer.route(Hello),
        Codec::Json | Codec::Bincode => peer.route(HelloSerde),
    };
    let addr = peer.listen().await?;
    Ok(match network {
        Network::Unix => options.addr.clone(),
        _ => addr.to_string(),
    })
}

/// Starts the server of a ceiling (`kind`); returns the address to dial.
async fn listen_ceiling(
    options: &ServerOptions,
    kind: Kind,
) -> Result<String, Box<dyn std::error::Error>> {
    let network = options.network;
    if network.ceiling() != network {
        return Err(
            format!("the ceilings run over plain tcp or unix sockets, not {network}").into()
        );
    }
    if kind == Kind::CodecCeiling && options.codec != Codec::Protobuf {
        return Err("the codec ceiling does the protobuf work of a call: --codec protobuf".into());
    }
    match network {
        Network::Unix => {
            let _ = std::fs::remove_file(&options.addr);
            let listener = tokio::net::UnixListener::bind(&options.addr)?;
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve_ceiling(stream, kind));
                }
            });
            Ok(options.addr.clone())
        }
        _ => {
            let listener = tokio::net::TcpListener::bind(&options.addr).await?;
            let addr = listener.local_addr()?.to_string();
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(serve_ceiling(stream, kind));
                }
            });
            Ok(addr)
        }
    }
}

/// Serves one connection of a ceiling: the raw echo, or the codec ceiling's answers.
async fn serve_ceiling(
    stream: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    kind: Kind,
) {
    match kind {
        Kind::CodecCeiling => ceiling::answer(stream).await,
        _ => ceiling::echo(stream).await,
    }
}

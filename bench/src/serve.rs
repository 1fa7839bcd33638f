//! The benchmark server: teleport serving `Hello.Say`, or the raw ceiling, an echo of whole
//! frames over plain tokio sockets. It prints `listening <address>` once it accepts
//! connections, which is how a client that started it learns where to dial.
//!
//! On the TLS networks (`tls`, `quic`, `wss`) it presents the certificate of `--cert` and
//! `--key`; without them it makes a self-signed one and says on stderr where it wrote it, for
//! the client's `--ca`.

use std::io::Write as _;
use std::path::PathBuf;

use bytes::{Buf, BytesMut};
use teleport::{Peer, PeerConfig};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::certs::{CertDir, server_tls};
use crate::cli::{Args, Codec, Network, runtime};
use crate::hello::{Hello, HelloSerde};

/// How the server runs.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// Where to listen: `host:port` (port 0 picks one) or a socket path.
    pub addr: String,
    /// The transport.
    pub network: Network,
    /// The body codec `Hello.Say` is served in.
    pub codec: Codec,
    /// Serve the raw ceiling instead of teleport.
    pub raw: bool,
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
            raw: false,
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
            "--raw" => self.raw = true,
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
        let addr = if options.raw {
            listen_raw(options).await?
        } else {
            listen(options, &mut made_certs).await?
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

/// Starts the raw ceiling's echo server; returns the address to dial.
async fn listen_raw(options: &ServerOptions) -> Result<String, Box<dyn std::error::Error>> {
    let network = options.network;
    if network.ceiling() != network {
        return Err(format!("--raw echoes over plain tcp or unix sockets, not {network}").into());
    }
    match network {
        Network::Unix => {
            let _ = std::fs::remove_file(&options.addr);
            let listener = tokio::net::UnixListener::bind(&options.addr)?;
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(echo(stream));
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
                    tokio::spawn(echo(stream));
                }
            });
            Ok(addr)
        }
    }
}

/// Echoes every whole frame (a 4-byte big-endian length that counts itself, then the rest)
/// back as it came: one read, then one write of every frame that read completed.
async fn echo(mut stream: impl AsyncRead + AsyncWrite + Unpin) {
    let mut buf = BytesMut::with_capacity(8 << 10);
    loop {
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let Some(whole) = whole_frames(&buf) else { return };
        if whole > 0 {
            if stream.write_all(&buf[..whole]).await.is_err() {
                return;
            }
            buf.advance(whole);
        }
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(8 << 10);
        }
    }
}

/// The length of the whole frames at the front of `buf`; `None` if a length prefix is
/// shorter than itself.
fn whole_frames(buf: &[u8]) -> Option<usize> {
    let mut end = 0;
    while let Some(prefix) = buf.get(end..end + 4) {
        let len = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
        if len < 4 {
            return None;
        }
        if buf.len() < end + len {
            break;
        }
        end += len;
    }
    Some(end)
}

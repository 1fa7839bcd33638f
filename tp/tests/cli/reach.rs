//! Peers that cannot be reached or never answer: `tp` exits non-zero within its timeout.

use std::time::{Duration, Instant};

use crate::support::{parts, tp};

#[tokio::test]
async fn an_unreachable_address_exits_3() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    for command in ["routes", "call", "push", "listen"] {
        let mut args = vec![command, addr.as_str()];
        if command == "call" || command == "push" {
            args.push("/demo/add");
        }
        let (code, out, err) = parts(&tp(&args).await);
        assert_eq!(code, Some(3), "{command}: {err}");
        assert!(out.is_empty());
        assert!(err.starts_with("tp: cannot reach the peer: status 105 Dial Failed: "), "{err}");
    }
    let (code, _, err) =
        parts(&tp(&["call", "--network", "unix", "/nonexistent/tp.sock", "/a"]).await);
    assert_eq!(code, Some(3), "{err}");
}

#[tokio::test]
async fn a_peer_that_never_answers_ends_the_call_at_the_timeout() {
    // Connections complete in the kernel's backlog, and nothing ever reads them.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let started = Instant::now();
    let (code, out, err) =
        parts(&tp(&["call", "--timeout", "300ms", &addr, "/demo/add", "[1]"]).await);
    assert_eq!(code, Some(1), "{err}");
    assert!(out.is_empty());
    assert!(err.contains("failed: status 408"), "{err}");
    // The timeout covers the whole command: the manifest call and the call share it. (A
    // generous bound: the point is that `tp` does not wait for the 10 s default.)
    assert!(started.elapsed() < Duration::from_secs(9), "{:?}", started.elapsed());
    drop(silent);
}

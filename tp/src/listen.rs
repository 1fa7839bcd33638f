//! `tp listen`: every push received printed as one JSON line, `{"route", "meta", "body"}`,
//! flushed at once so that `jq` sees it as it comes.

use serde::Serialize;
use serde_json::Value;
use teleport::{PushCtx, Session};
use tokio::sync::mpsc;

use crate::args::ListenArgs;
use crate::body;
use crate::connect::{self, Budget};
use crate::failure::Failure;
use crate::output;

/// How many received pushes may wait to be printed before the peer's reads pause.
const BACKLOG: usize = 64;

/// Runs `tp listen`: until `--count` pushes are printed, the peer closes the session (when
/// dialing), standard output is closed, or the process is stopped.
pub(crate) async fn run(args: ListenArgs) -> Result<(), Failure> {
    let peer = connect::local_peer(&args.conn, args.serve)?;
    let (tx, mut pushes) = mpsc::channel(BACKLOG);
    peer.set_unknown_push(move |ctx: PushCtx| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(Line::of(&ctx)).await;
            Ok(())
        }
    });
    let session = if args.serve {
        let addr =
            peer.listen().await.map_err(|e| Failure::Input(format!("cannot listen: {e}")))?;
        eprintln!("tp: listening on {addr}");
        None
    } else {
        let budget = Budget::new(args.conn.timeout);
        Some(connect::dial_from(&peer, &args.conn, budget).await?)
    };
    let mut printed = 0u64;
    while args.count.is_none_or(|count| printed < count) {
        let line = tokio::select! {
            biased;
            line = pushes.recv() => line,
            () = closed(session.as_ref()) => pushes.try_recv().ok(),
        };
        let Some(line) = line else {
            eprintln!("tp: the peer closed the session");
            break;
        };
        let text = serde_json::to_string(&line).map_err(|e| Failure::Other(e.to_string()))?;
        if !output::print(&(text + "\n"))? {
            break;
        }
        printed += 1;
    }
    if let Some(session) = session {
        session.close().await;
    }
    Ok(())
}

/// Ends when the dialed session is closed; never without one.
async fn closed(session: Option<&Session>) {
    match session {
        Some(session) => session.wait_closed().await,
        None => std::future::pending().await,
    }
}

/// The printed form of a push, its keys in this order.
#[derive(Serialize)]
struct Line {
    /// The service method, with its `?query` if any.
    route: String,
    meta: Value,
    body: Value,
}

impl Line {
    fn of(ctx: &PushCtx) -> Line {
        Line {
            route: ctx.service_method().to_owned(),
            meta: body::meta(ctx.input_meta()),
            body: body::render(ctx.body_codec(), ctx.body()),
        }
    }
}

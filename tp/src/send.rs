//! `tp call` and `tp push`: one message with a JSON argument, checked against the route's
//! schema when the peer serves its manifest.

use teleport::manifest::RouteKind;
use teleport::{Message, MessageType, Session, XferPipe, XferRegistry};

use crate::args::SendArgs;
use crate::body;
use crate::connect::{self, Budget};
use crate::failure::Failure;
use crate::{manifest, output, schema};

/// Runs `tp call`: prints the reply's body as pretty JSON.
pub(crate) async fn call(args: SendArgs) -> Result<(), Failure> {
    let (session, msg, budget) = prepare(&args, RouteKind::Call).await?;
    let what = format!("call {}", args.route);
    let reply = session
        .call_raw_reply(msg, Some(budget.left()))
        .await
        .map_err(|status| Failure::status(&what, status))?;
    session.close().await;
    if !reply.status.is_ok() {
        return Err(Failure::status(what, reply.status));
    }
    output::pretty(&body::render(reply.body_codec, &reply.body))
}

/// Runs `tp push`: returns once the push is written (a push has no answer).
pub(crate) async fn push(args: SendArgs) -> Result<(), Failure> {
    let (session, msg, budget) = prepare(&args, RouteKind::Push).await?;
    let pushed = session.push_raw(msg, Some(budget.left())).await;
    // Closing flushes the write queue, so the push is on the wire when this returns.
    session.close().await;
    pushed.map_err(|status| Failure::status(format!("push {}", args.route), status))
}

/// Reads and encodes the argument (before dialing, so bad input fails at once), dials,
/// checks the argument against the manifest unless `--no-check`, and builds the message.
async fn prepare(args: &SendArgs, kind: RouteKind) -> Result<(Session, Message, Budget), Failure> {
    let arg = body::read_arg(&args.json)?;
    let codec = body::codec_named(&args.codec)?;
    let encoded = body::encode(&arg, codec)?;
    let budget = Budget::new(args.conn.timeout);
    let session = connect::dial(&args.conn, budget).await?;
    if !args.no_check {
        if let Some(manifest) = manifest::fetch(&session, budget).await? {
            if let Some(route) = manifest::find(&manifest, &args.route) {
                schema::check(route, kind, &arg)?;
            }
        }
    }
    let mtype = match kind {
        RouteKind::Call => MessageType::Call,
        RouteKind::Push => MessageType::Push,
    };
    let mut msg = Message::new(mtype, 0, args.route.as_str());
    for (key, value) in &args.meta {
        msg.meta.add(key, value);
    }
    msg.body_codec = codec.id;
    msg.body = encoded;
    if args.gzip {
        msg.xfer_pipe = gzip_pipe()?;
    }
    Ok((session, msg, budget))
}

/// The pipe of the gzip filter, under the id the default registry gives it (`g`).
fn gzip_pipe() -> Result<XferPipe, Failure> {
    let id = XferRegistry::default()
        .id_of("gzip")
        .ok_or_else(|| Failure::Input("this build of tp has no gzip filter".into()))?;
    XferPipe::from_ids(&[id]).map_err(|e| Failure::Input(e.to_string()))
}

//! Binder: a table of rules, each passing and failing, over one loopback session.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::json;
use teleport::plugin::binder::{Bind, Bindable, Rules};
use teleport::{CallCtx, CallOptions, Peer, PushCtx, Status};

use crate::common::{config, eventually, pair};

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Form {
    name: String,
    age: u32,
    score: f64,
    tags: Vec<String>,
    nick: Option<String>,
    agree: bool,
    user_id: u64,
    trace: String,
}

impl Bindable for Form {
    fn rules(rules: &mut Rules<Self>) {
        rules.field("name", |f| &f.name).required().len(2, 5).regex("^[a-z]+$");
        rules.field("age", |f| &f.age).range(18, 130).status(10018, "too young or too old");
        rules.field("score", |f| &f.score).range(0.0, 1.0);
        rules.field("tags", |f| &f.tags).len(0, 2);
        rules.field("nick", |f| &f.nick).len(3, 8).regex("^[A-Z]");
        rules.field("agree", |f| &f.agree).required();
        rules.meta("user_id", "X-User", |f| &mut f.user_id).required().range(1, 999);
        rules.meta("trace", "X-Trace", |f| &mut f.trace).custom("no-spaces", |t| !t.contains(' '));
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct BadPattern {
    x: u8,
    y: String,
}

impl Bindable for BadPattern {
    fn rules(rules: &mut Rules<Self>) {
        rules.field("x", |b| &b.x).custom("any", |_| true);
        rules.field("y", |b| &b.y).regex("(unclosed");
    }
}

fn invalid(cause: &str) -> Status {
    Status::new(400, "Invalid Parameter").cause(cause)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_rule_passes_and_fails_with_its_field_and_rule_named() {
    let runs = Arc::new(AtomicUsize::new(0));
    let (counted, pushed) = (runs.clone(), Arc::new(AtomicUsize::new(0)));
    let pushes = pushed.clone();
    let (_server, _client, session) =
        pair(Peer::builder(config()), Peer::builder(config()), move |peer| {
            peer.route_call_fn("/form", move |_ctx: CallCtx, Bind(form): Bind<Form>| {
                counted.fetch_add(1, Ordering::SeqCst);
                async move { Ok(format!("{}:{}:{}", form.name, form.user_id, form.trace)) }
            });
            peer.route_push_fn("/form", move |_ctx: PushCtx, form: Bind<Form>| {
                pushes.fetch_add(form.into_inner().user_id as usize, Ordering::SeqCst);
                async { Ok(()) }
            });
            peer.route_call_fn("/bad", |_ctx: CallCtx, _: Bind<BadPattern>| async { Ok(()) });
        })
        .await;
    let good = json!({"name": "ann", "age": 30, "score": 0.5, "agree": true});
    let with = |patch: serde_json::Value| {
        let mut form = good.clone();
        form.as_object_mut().unwrap().extend(patch.as_object().unwrap().clone());
        form
    };
    let user = |id: &str| CallOptions::new().set_meta("X-User", id).set_meta("X-Trace", "t1");
    let table: Vec<(serde_json::Value, CallOptions, Result<&str, Status>)> = vec![
        (good.clone(), user("7"), Ok("ann:7:t1")),
        (
            with(json!({"name": ""})),
            user("7"),
            Err(invalid("name: rule required failed: missing or zero")),
        ),
        (
            with(json!({"name": "a"})),
            user("7"),
            Err(invalid("name: rule len(2, 5) failed: length 1")),
        ),
        (
            with(json!({"name": "ännnn"})),
            user("7"),
            Err(invalid("name: rule regex(^[a-z]+$) failed: no match")),
        ),
        (
            with(json!({"name": "abcdef"})),
            user("7"),
            Err(invalid("name: rule len(2, 5) failed: length 6")),
        ),
        (
            with(json!({"age": 17})),
            user("7"),
            Err(Status::new(10018, "too young or too old")
                .cause("age: rule range(18, 130) failed: 17")),
        ),
        (
            with(json!({"score": 1.5})),
            user("7"),
            Err(invalid("score: rule range(0, 1) failed: 1.5")),
        ),
        (
            with(json!({"tags": ["a", "b", "c"]})),
            user("7"),
            Err(invalid("tags: rule len(0, 2) failed: length 3")),
        ),
        (
            with(json!({"nick": "Bo"})),
            user("7"),
            Err(invalid("nick: rule len(3, 8) failed: length 2")),
        ),
        (
            with(json!({"nick": "bob"})),
            user("7"),
            Err(invalid("nick: rule regex(^[A-Z]) failed: no match")),
        ),
        (with(json!({"nick": "Bob"})), user("7"), Ok("ann:7:t1")),
        (
            with(json!({"agree": false})),
            user("7"),
            Err(invalid("agree: rule required failed: missing or zero")),
        ),
        (
            good.clone(),
            CallOptions::new(),
            Err(invalid("user_id: rule required failed: missing or zero")),
        ),
        (good.clone(), user("x"), Err(invalid("user_id: rule meta(X-User) failed"))),
        (good.clone(), user("1000"), Err(invalid("user_id: rule range(1, 999) failed: 1000"))),
        (
            good.clone(),
            user("5").set_meta("X-Trace", "a b"),
            Err(invalid("trace: rule no-spaces failed: false")),
        ),
        (json!({"age": "old"}), user("7"), Err(Status::new(400, "Bad Message"))),
    ];
    let mut expected_runs = 0;
    for (form, options, expected) in table {
        let got = session.call_with::<String>("/form", &form, &options).await;
        match (&got, &expected) {
            (Ok(reply), Ok(text)) => {
                expected_runs += 1;
                assert_eq!(reply.value, *text, "{form}");
            }
            (Err(err), Err(want)) if want.cause_text().is_none() => {
                assert_eq!((err.code(), err.msg()), (want.code(), want.msg()), "{form}")
            }
            (Err(err), Err(want)) => assert_eq!(err, want, "{form}"),
            _ => panic!("{form}: got {got:?}, expected {expected:?}"),
        }
    }
    assert_eq!(runs.load(Ordering::SeqCst), expected_runs, "no handler ran on a refusal");

    // Pushes: a failing one is dropped, a good one handled.
    session.push_with("/form", &good, &CallOptions::new()).await.unwrap();
    session.push_with("/form", &good, &user("9")).await.unwrap();
    eventually(|| pushed.load(Ordering::SeqCst) == 9).await;

    // A bad pattern refuses every value with 500, and panics nowhere.
    let err = session.call::<()>("/bad", &json!({})).await.unwrap_err();
    assert_eq!(err.code(), 500);
    assert!(err.cause_text().unwrap().contains("bad regex for y"), "{err}");
}

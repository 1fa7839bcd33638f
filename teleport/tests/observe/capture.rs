//! A subscriber that keeps what the tests look at: every closed span with its fields, and
//! every event's message, level and target.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span as it closed.
#[derive(Clone, Debug)]
pub(crate) struct SpanRecord {
    pub(crate) name: String,
    pub(crate) fields: BTreeMap<String, String>,
    /// The `tracing` parent's `span_id` field, if the parent is one of ours.
    pub(crate) parent: Option<String>,
}

impl SpanRecord {
    pub(crate) fn get(&self, field: &str) -> &str {
        self.fields.get(field).map_or("", String::as_str)
    }
}

/// An event: its level, target and message.
#[derive(Clone, Debug)]
pub(crate) struct EventRecord {
    pub(crate) level: tracing::Level,
    pub(crate) target: String,
    pub(crate) message: String,
    /// `side route` of the span the event happened in, if one of ours.
    pub(crate) span: Option<String>,
}

#[derive(Clone, Default)]
pub(crate) struct Captured {
    spans: Arc<Mutex<Vec<SpanRecord>>>,
    events: Arc<Mutex<Vec<EventRecord>>>,
}

impl Captured {
    /// A subscriber keeping everything at `level` and above, and the handle to read it.
    pub(crate) fn install(level: tracing::Level) -> (Self, tracing::subscriber::DefaultGuard) {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::filter::LevelFilter::from_level(level))
            .with(captured.clone());
        (captured, tracing::subscriber::set_default(subscriber))
    }

    pub(crate) fn spans(&self) -> Vec<SpanRecord> {
        self.spans.lock().unwrap().clone()
    }

    pub(crate) fn events(&self) -> Vec<EventRecord> {
        self.events.lock().unwrap().clone()
    }

    /// The closed spans named `name` on `side` for `route`.
    pub(crate) fn find(&self, name: &str, side: &str, route: &str) -> Vec<SpanRecord> {
        self.spans()
            .into_iter()
            .filter(|s| s.name == name && s.get("side") == side && s.get("route") == route)
            .collect()
    }

    /// The messages of the events of `target`.
    pub(crate) fn lines(&self, target: &str) -> Vec<EventRecord> {
        self.events().into_iter().filter(|e| e.target == target).collect()
    }
}

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Captured {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(fields) = span.extensions_mut().get_mut::<Fields>() {
                values.record(fields);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let meta = event.metadata();
        let span = ctx.event_span(event).and_then(|span| {
            let ext = span.extensions();
            let f = &ext.get::<Fields>()?.0;
            Some(format!("{} {}", f.get("side")?, f.get("route")?))
        });
        self.events.lock().unwrap().push(EventRecord {
            level: *meta.level(),
            target: meta.target().to_owned(),
            message: fields.0.remove("message").unwrap_or_default(),
            span,
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let fields = span.extensions().get::<Fields>().map(|f| f.0.clone()).unwrap_or_default();
        let parent = span
            .parent()
            .and_then(|p| p.extensions().get::<Fields>().and_then(|f| f.0.get("span_id").cloned()));
        self.spans.lock().unwrap().push(SpanRecord {
            name: span.name().to_owned(),
            fields,
            parent,
        });
    }
}

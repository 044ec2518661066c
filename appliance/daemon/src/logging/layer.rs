//! The scrubbing layer: turns tracing events into records with every value scrubbed, then hands
//! them to the sinks.

use std::fmt::{self, Write as _};
use std::time::SystemTime;

use diala_redact::Scrubber;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record as SpanValues};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// One log event, already scrubbed.
#[derive(Debug)]
pub struct Record<'a> {
    /// When the event happened.
    pub time: SystemTime,
    /// Its level.
    pub level: Level,
    /// The module that logged it.
    pub target: &'a str,
    /// The message.
    pub message: String,
    /// The event's own fields, in the order they were written.
    pub fields: Vec<(&'static str, String)>,
    /// The enclosing spans, outermost first, each with its fields.
    pub spans: Vec<(&'static str, Vec<(&'static str, String)>)>,
}

/// Somewhere log records are written. Sinks only ever see scrubbed records.
pub trait Sink: Send + Sync + 'static {
    /// Writes one record. A sink that cannot write must not panic.
    fn write(&self, record: &Record<'_>);
}

/// The one layer under which every sink sits.
pub struct ScrubLayer {
    scrubber: Scrubber,
    sinks: Vec<Box<dyn Sink>>,
}

impl ScrubLayer {
    /// A layer that scrubs with `scrubber` and writes to every sink in `sinks`.
    pub fn new(scrubber: Scrubber, sinks: Vec<Box<dyn Sink>>) -> Self {
        ScrubLayer { scrubber, sinks }
    }
}

/// The scrubbed fields of a span, kept in the span's extensions.
struct SpanFields(Vec<(&'static str, String)>);

/// Collects fields as strings, scrubbing each as it arrives.
struct Collect<'a> {
    scrubber: &'a Scrubber,
    message: Option<String>,
    fields: Vec<(&'static str, String)>,
}

impl Collect<'_> {
    fn push(&mut self, field: &Field, raw: &str) {
        let value = self.scrubber.scrub(raw).into_owned();
        if field.name() == "message" {
            self.message = Some(value);
        } else {
            self.fields.push((field.name(), value));
        }
    }
}

impl Visit for Collect<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let mut text = String::new();
        let _ = write!(text, "{value:?}");
        self.push(field, &text);
    }
}

impl<S> tracing_subscriber::Layer<S> for ScrubLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut collect = Collect {
            scrubber: &self.scrubber,
            message: None,
            fields: Vec::new(),
        };
        attrs.record(&mut collect);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(collect.fields));
        }
    }

    fn on_record(&self, id: &Id, values: &SpanValues<'_>, ctx: Context<'_, S>) {
        let mut collect = Collect {
            scrubber: &self.scrubber,
            message: None,
            fields: Vec::new(),
        };
        values.record(&mut collect);
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<SpanFields>()
        {
            fields.0.extend(collect.fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut collect = Collect {
            scrubber: &self.scrubber,
            message: None,
            fields: Vec::new(),
        };
        event.record(&mut collect);

        let spans = ctx
            .event_scope(event)
            .map(|scope| {
                scope
                    .from_root()
                    .map(|span| {
                        let fields = span.extensions().get::<SpanFields>().map(|f| f.0.clone());
                        (span.name(), fields.unwrap_or_default())
                    })
                    .collect()
            })
            .unwrap_or_default();

        let record = Record {
            time: SystemTime::now(),
            level: *event.metadata().level(),
            target: event.metadata().target(),
            message: collect.message.unwrap_or_default(),
            fields: collect.fields,
            spans,
        };
        for sink in &self.sinks {
            sink.write(&record);
        }
    }
}

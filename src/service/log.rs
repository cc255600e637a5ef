//! The service's log: a `tracing` subscriber writing one line per event to stderr, so the
//! gateway's lines and the `tipring-sip` crate's events (a full receive queue, a dropped
//! response) all reach the operator.
//!
//! - Under systemd, when stderr is the journal stream that `JOURNAL_STREAM` names
//!   (systemd.exec(5): its `device:inode` is compared with stderr's), each line starts with
//!   its syslog priority `<N>` (sd-daemon(3)) and carries no time: the journal stamps it.
//! - Otherwise each line starts with the seconds since start, `[   1.234] `, which the
//!   demo and the whole-process tests read.
//!
//! Events at INFO are the message alone; other levels name the level and the event's
//! target (`WARN tipring_sip::ua: ...`). Inside a span (a call's: `call{port=0
//! call_id=...}`) the spans come before the message. The level comes from the
//! configuration's `[log] level`, overridden by `RUST_LOG` (`info`,
//! `info,tipring_sip=debug`: [`Targets`] directives).
//!
//! The other crates' events (the SIP stack's: one per dropped or refused message) are held
//! to `[limits] wire_log_per_s` lines a second, as the message lines are
//! ([`WireLog`]): a flood costs the log one line a second, not one per message.

use crate::service::wire_log::{self, WireLog};
use std::fmt;
use std::sync::Mutex;
use std::time::Instant;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;

/// Where the lines go and how they start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    /// systemd's journal: a `<priority>` prefix, no time.
    Journal,
    /// A terminal or a pipe: the seconds since start.
    Text,
}

impl Sink {
    /// [`Sink::Journal`] when stderr is the stream `JOURNAL_STREAM` names.
    pub fn detect() -> Sink {
        match std::env::var("JOURNAL_STREAM") {
            Ok(v) if stderr_is(&v) => Sink::Journal,
            _ => Sink::Text,
        }
    }
}

/// Whether stderr is the file `dev_ino` (`JOURNAL_STREAM`'s `device:inode`) names: a
/// child whose stderr was redirected keeps the variable but not the stream.
fn stderr_is(dev_ino: &str) -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Some((dev, ino)) = dev_ino.split_once(':') else {
        return false;
    };
    let (Ok(dev), Ok(ino)) = (dev.parse::<u64>(), ino.parse::<u64>()) else {
        return false;
    };
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    std::fs::File::from(fd)
        .metadata()
        .is_ok_and(|m| m.dev() == dev && m.ino() == ino)
}

/// The syslog priority of a level (sd-daemon(3), RFC 5424 §6.2.1).
pub fn priority(level: Level) -> u8 {
    match level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// Why a level directive was refused.
#[derive(Debug, thiserror::Error)]
pub enum LevelError {
    /// A directive is neither a level nor `target=level`: a bare word would be taken as
    /// a target to log at every level, with all else off.
    #[error("{0:?} is neither a level (error, warn, info, debug, trace, off) nor target=level")]
    Directive(String),
    #[error("{given:?}: {source}")]
    Parse {
        given: String,
        source: tracing_subscriber::filter::ParseError,
    },
}

/// The filter of `directives`: comma-separated, each a level (the default) or
/// `target=level`.
pub fn parse(directives: &str) -> Result<Targets, LevelError> {
    for d in directives
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        let level = d.rsplit_once('=').map_or(d, |(_, l)| l);
        if level.parse::<LevelFilter>().is_err() {
            return Err(LevelError::Directive(d.to_owned()));
        }
    }
    directives.parse().map_err(|source| LevelError::Parse {
        given: directives.to_owned(),
        source,
    })
}

/// The filter: `RUST_LOG` when set and not empty, else `configured` (checked with the
/// configuration), else INFO. A `RUST_LOG` that does not parse is passed over (the service
/// still starts) and its error handed back, to be logged.
pub fn filter(configured: Option<&str>) -> (Targets, Option<LevelError>) {
    let fallback = || {
        configured
            .and_then(|d| parse(d).ok())
            .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
    };
    match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => match parse(&v) {
            Ok(t) => (t, None),
            Err(e) => (fallback(), Some(e)),
        },
        _ => (fallback(), None),
    }
}

/// One line per event, as the module docs say.
#[derive(Debug)]
pub struct Line {
    sink: Sink,
    start: Instant,
    /// The budget of the other crates' lines.
    others: Mutex<WireLog>,
}

impl Line {
    /// Lines to `sink`, other crates' events at most `others_per_s` a second.
    pub fn new(sink: Sink, others_per_s: u32) -> Line {
        Line {
            sink,
            start: Instant::now(),
            others: Mutex::new(WireLog::new(others_per_s)),
        }
    }

    fn prefix(&self, w: &mut Writer<'_>, level: Level) -> fmt::Result {
        match self.sink {
            Sink::Journal => write!(w, "<{}>", priority(level)),
            Sink::Text => {
                let t = self.start.elapsed();
                write!(w, "[{:>4}.{:03}] ", t.as_secs(), t.subsec_millis())
            }
        }
    }
}

/// Whether `target` is this crate's (the gateway's own lines are never held back).
fn own(target: &str) -> bool {
    target == "tipring" || target.starts_with("tipring::")
}

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        if !own(meta.target()) {
            let mut budget = self.others.lock().unwrap_or_else(|p| p.into_inner());
            match budget.line(Instant::now()) {
                // Nothing written: the fmt layer writes nothing either.
                wire_log::Line::Suppress => return Ok(()),
                wire_log::Line::Log { suppressed: 0 } => {}
                wire_log::Line::Log { suppressed } => {
                    self.prefix(&mut w, Level::WARN)?;
                    writeln!(
                        w,
                        "{suppressed} log lines of the SIP stack not logged (over wire_log_per_s)"
                    )?;
                }
            }
        }
        self.prefix(&mut w, *meta.level())?;
        if *meta.level() != Level::INFO {
            write!(w, "{} {}: ", meta.level(), meta.target())?;
        }
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                w.write_str(span.name())?;
                let ext = span.extensions();
                if let Some(fields) = ext.get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    write!(w, "{{{fields}}}")?;
                }
                w.write_str(": ")?;
            }
        }
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

/// Installs the subscriber for the whole process (once; a second call changes nothing).
pub fn install(sink: Sink, filter: Targets, others_per_s: u32) {
    let layer = tracing_subscriber::fmt::layer()
        .event_format(Line::new(sink, others_per_s))
        .with_writer(std::io::stderr);
    let subscriber = tracing_subscriber::registry().with(layer).with(filter);
    let _ = tracing::subscriber::set_global_default(subscriber);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::fmt::MakeWriter;

    /// Lines written into a shared buffer.
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buf {
        type Writer = Buf;
        fn make_writer(&'a self) -> Buf {
            self.clone()
        }
    }

    fn logged(sink: Sink, filter: &str, f: impl FnOnce()) -> String {
        logged_at(sink, filter, 50, f)
    }

    fn logged_at(sink: Sink, filter: &str, per_s: u32, f: impl FnOnce()) -> String {
        let buf = Buf::default();
        let layer = tracing_subscriber::fmt::layer()
            .event_format(Line::new(sink, per_s))
            .with_writer(buf.clone());
        let subscriber = tracing_subscriber::registry()
            .with(layer)
            .with(filter.parse::<Targets>().unwrap());
        tracing::subscriber::with_default(subscriber, f);
        String::from_utf8(buf.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn text_lines_start_with_the_time() {
        let out = logged(Sink::Text, "info", || {
            tracing::info!("port 0: card OffHook");
            tracing::warn!(target: "tipring_sip::ua", "receive queue full");
            tracing::debug!("not shown");
        });
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(lines[0].starts_with("[   0.0"), "{out}");
        assert!(lines[0].ends_with("] port 0: card OffHook"), "{out}");
        assert!(
            lines[1].ends_with("] WARN tipring_sip::ua: receive queue full"),
            "{out}"
        );
    }

    #[test]
    fn journal_lines_carry_the_priority() {
        let out = logged(Sink::Journal, "debug", || {
            tracing::error!(target: "t", "e");
            tracing::warn!(target: "t", "w");
            tracing::info!("i");
            tracing::debug!(target: "t", "d");
        });
        assert_eq!(out, "<3>ERROR t: e\n<4>WARN t: w\n<6>i\n<7>DEBUG t: d\n");
    }

    #[test]
    fn spans_name_the_call() {
        let out = logged(Sink::Journal, "info", || {
            let span = tracing::info_span!("call", port = 2, call_id = "abc@h");
            let _g = span.enter();
            tracing::info!("180 not sent");
        });
        assert_eq!(out, "<6>call{port=2 call_id=\"abc@h\"}: 180 not sent\n");
    }

    #[test]
    fn the_filter_takes_targets() {
        let out = logged(Sink::Journal, "warn,tipring_sip=debug", || {
            tracing::info!(target: "tipring", "hidden");
            tracing::debug!(target: "tipring_sip::ua", "shown");
        });
        assert_eq!(out, "<7>DEBUG tipring_sip::ua: shown\n");
    }

    #[test]
    fn a_flood_of_sip_stack_events_is_held_to_the_budget() {
        let out = logged_at(Sink::Journal, "info", 3, || {
            for _ in 0..1000 {
                tracing::warn!(target: "tipring_sip::transport", "receive queue full");
            }
            for i in 0..5 {
                tracing::info!("port {i}: card OffHook");
            }
        });
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.contains("receive queue full"))
                .count(),
            3,
            "{out}"
        );
        assert_eq!(lines.iter().filter(|l| l.contains("OffHook")).count(), 5);
        assert_eq!(lines.len(), 8, "{out}");
    }

    #[test]
    fn directives_are_levels_or_target_levels() {
        assert!(parse("info").is_ok());
        assert!(parse("warn, tipring_sip=debug").is_ok());
        assert!(parse("tipring_sip::transport=off,error").is_ok());
        assert!(matches!(parse("loud"), Err(LevelError::Directive(d)) if d == "loud"));
        assert!(matches!(
            parse("info,sip=noisy"),
            Err(LevelError::Directive(_))
        ));
    }

    #[test]
    fn a_journal_stream_must_be_stderr() {
        assert!(!stderr_is("not a pair"));
        assert!(!stderr_is("1:x"));
        // No file has inode 0.
        assert!(!stderr_is("0:0"));
    }

    #[test]
    fn stderr_is_found_by_its_device_and_inode() {
        use std::os::fd::AsFd;
        use std::os::unix::fs::MetadataExt;
        let fd = std::io::stderr().as_fd().try_clone_to_owned().unwrap();
        let m = std::fs::File::from(fd).metadata().unwrap();
        assert!(stderr_is(&format!("{}:{}", m.dev(), m.ino())));
        assert!(!stderr_is(&format!("{}:{}", m.dev(), m.ino() + 1)));
    }
}

//! Logs and metrics plumbing: the tracing subscriber (JSON lines, or human-readable on a
//! terminal) and the process-wide Prometheus recorder that `/metrics` renders.
//! What to record is decided by the code that records it, not here.

use std::io::IsTerminal;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable on a terminal, JSON otherwise.
    Auto,
    /// One JSON object per line.
    Json,
    /// Human-readable.
    Pretty,
}

/// Where log lines go: straight to standard output, or through a thread of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogWriter {
    /// Each line written when it is made: one-off commands, whose lines and printed output
    /// keep their order.
    Direct,
    /// Lines handed to a writer thread, which writes whatever has queued through one
    /// buffer: the server, which logs a line per request. Otherwise each request would
    /// write its line from the runtime's threads, a system call each behind one lock, and a
    /// slow reader of standard output (a container's log driver) would stall the requests.
    /// Nothing is dropped: when 128,000 lines wait, the next one waits for room.
    Thread,
}

/// Keeps the log writer's thread until dropped; held until the process ends, so that
/// every line is written.
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard {
    _writer: Option<tracing_appender::non_blocking::WorkerGuard>,
}

/// Installs the global tracing subscriber; an invalid filter is an error.
pub fn init_tracing(
    format: LogFormat,
    filter: &str,
    writer: LogWriter,
) -> Result<LogGuard, String> {
    let filter = EnvFilter::builder()
        .parse(filter)
        .map_err(|e| format!("{filter:?}: {e}"))?;
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stdout().is_terminal(),
    };
    let (make_writer, guard) = match writer {
        LogWriter::Direct => (BoxMakeWriter::new(std::io::stdout), None),
        LogWriter::Thread => {
            let (lines, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .lossy(false)
                .thread_name("conflicto-log")
                .finish(std::io::BufWriter::new(std::io::stdout()));
            (BoxMakeWriter::new(lines), Some(guard))
        }
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(make_writer);
    // A second call (tests spawning several apps) keeps the first subscriber.
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    } else {
        builder.try_init()
    };
    Ok(LogGuard { _writer: guard })
}

/// Latency buckets in seconds, from sub-millisecond API calls to slow exports.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide Prometheus handle. The `metrics` facade has one global recorder per
/// process, so every app in the process (several in tests) shares it.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                .expect("bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first, which this crate never does.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

//! The log: human-readable lines by default, one JSON object per line with `LOG_FORMAT=json`
//! for log shippers. Either way a line written while a request runs carries that request's
//! span (`request_id`, method, route; see [`super::request_id`]). `RUST_LOG` filters as usual
//! (default `info`).
//!
//! What must never reach the log is kept out where values are recorded, not filtered here:
//! spans and events name ids, routes and statuses, never a header, a body or a query string,
//! which is where tokens and passwords travel.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the process's log subscriber. Call once, first thing in `main`.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours for a person at a terminal; none in a file or a log collector.
    let lines = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal());
    match format {
        LogFormat::Text => lines.init(),
        LogFormat::Json => lines
            .json()
            // `{"timestamp", "level", "message", …fields, "span": {"request_id", …}}`
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
}

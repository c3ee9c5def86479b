//! What the operator sees of the running service: request ids tying log lines to a client's
//! request ([`request_id`]), Prometheus metrics ([`metrics`]) and the log format ([`logging`]).
//! Nothing here decides an answer to a client; it watches the ones that are given.

pub mod logging;
pub mod metrics;
pub mod request_id;

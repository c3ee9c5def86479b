//! Prometheus metrics: what an operator watches and alerts on. Every metric the service
//! records is named in this file ([`describe`] says what each one means), so this is the one
//! list to read when writing dashboards.
//!
//! Recording goes through the `metrics` facade, so a handler records an event with one call
//! and knows nothing of Prometheus; `metrics-exporter-prometheus` keeps the values and renders
//! the text format. Its recorder is process-wide, installed on the first start that exposes
//! metrics; when nothing exposes them none is installed and every recording is a no-op.
//!
//! Labels never hold user data: a request is labelled by its route *pattern*
//! (`/api/tasks/{task_id}`), never its path, and by a method from a fixed list, so neither a
//! client nor an attacker can create series at will.
//!
//! Exposure is the operator's choice (`config::MetricsSettings`): a separate listener
//! (`METRICS_ADDR`, reachable only where the operator routes it) and/or a bearer token
//! (`METRICS_TOKEN`) required wherever `/metrics` is served. With neither, there is no
//! `/metrics`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::config::MetricsToken;
use crate::db::Database;
use crate::errors::ApiError;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest, HttpResponse, web};
use metrics::{counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Histogram buckets for everything measured in seconds: from half a millisecond (a cached
/// list) to ten seconds (a request stuck behind a saturated pool).
const SECONDS_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often histogram samples are folded into their buckets between scrapes, which bounds
/// the memory they hold under load.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The process's recorder, once installed.
static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();

/// What `/metrics` needs: the rendered values and the database whose pool it reports.
#[derive(Clone)]
pub struct MetricsEndpoint {
    handle: PrometheusHandle,
    database: Database,
    token: Option<MetricsToken>,
}

impl MetricsEndpoint {
    /// Installs the process's recorder if it is not yet installed, and returns the endpoint.
    pub fn install(database: Database, token: Option<MetricsToken>) -> Self {
        let handle = RECORDER.get_or_init(install_recorder).clone();
        Self {
            handle,
            database,
            token,
        }
    }

    /// The text exposition format, with the pool's gauges read now.
    pub fn render(&self) -> String {
        let pool = self.database.pool_state();
        gauge!(DB_POOL_CONNECTIONS).set(f64::from(pool.connections));
        gauge!(DB_POOL_IDLE).set(f64::from(pool.idle_connections));
        gauge!(DB_POOL_IN_USE).set(f64::from(pool.connections - pool.idle_connections));
        gauge!(DB_POOL_MAX).set(f64::from(self.database.pool_max_size()));
        self.handle.render()
    }
}

fn install_recorder() -> PrometheusHandle {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
        .map(PrometheusBuilder::build_recorder);
    let recorder = match recorder {
        Ok(recorder) => recorder,
        // Only an empty bucket list is refused, and ours is not empty.
        Err(error) => unreachable!("histogram buckets refused: {error}"),
    };
    let handle = recorder.handle();
    if metrics::set_global_recorder(recorder).is_err() {
        tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
    }
    describe();
    let upkeep = handle.clone();
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                upkeep.run_upkeep();
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "could not start the metrics upkeep thread; histograms fold at scrape time only");
    }
    handle
}

/// `GET /metrics`: the bearer token, when one is configured, or 401.
pub async fn scrape(request: HttpRequest, endpoint: web::Data<MetricsEndpoint>) -> HttpResponse {
    if let Some(token) = &endpoint.token {
        let presented = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        if !presented.is_some_and(|presented| token.matches(presented)) {
            return actix_web::ResponseError::error_response(&ApiError::unauthorized(
                "invalid_token",
                "a valid METRICS_TOKEN is required",
            ));
        }
    }
    let body = endpoint.render();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

// ---- the catalogue ----

const HTTP_REQUESTS: &str = "http_requests_total";
const HTTP_DURATION: &str = "http_request_duration_seconds";
const AUTH_LOGINS: &str = "auth_logins_total";
const AUTH_REGISTRATIONS: &str = "auth_registrations_total";
const AUTH_REFRESHES: &str = "auth_refreshes_total";
const AUTH_REVOCATIONS: &str = "auth_session_revocations_total";
const RATE_LIMITED: &str = "rate_limited_requests_total";
const DB_POOL_CONNECTIONS: &str = "db_pool_connections";
const DB_POOL_IDLE: &str = "db_pool_idle_connections";
const DB_POOL_IN_USE: &str = "db_pool_in_use_connections";
const DB_POOL_MAX: &str = "db_pool_max_connections";
const DB_POOL_WAIT: &str = "db_pool_wait_seconds";
const DB_POOL_TIMEOUTS: &str = "db_pool_timeouts_total";
const PASSWORD_QUEUED: &str = "password_work_queued";
const PASSWORD_WAIT: &str = "password_work_wait_seconds";

fn describe() {
    describe_counter!(
        HTTP_REQUESTS,
        "Requests answered, by method, route pattern and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "Time from request to response head, by method, route pattern and status"
    );
    describe_counter!(
        AUTH_LOGINS,
        "Login attempts by outcome: ok, failed (unknown email or wrong password), throttled (per-account back-off)"
    );
    describe_counter!(AUTH_REGISTRATIONS, "Accounts created");
    describe_counter!(
        AUTH_REFRESHES,
        "Refresh attempts by outcome: rotated, retried (same successor within the grace window), reuse_detected, refused"
    );
    describe_counter!(
        AUTH_REVOCATIONS,
        "Session revocations by reason: logout, logout_all, revoke, password_change, password_reset, account_deleted, reuse"
    );
    describe_counter!(
        RATE_LIMITED,
        "Requests refused with 429 by a rate limit: auth (per address), task_writes (per account)"
    );
    describe_gauge!(
        DB_POOL_CONNECTIONS,
        "Open connections in the database pool, at scrape time"
    );
    describe_gauge!(DB_POOL_IDLE, "Idle connections in the database pool");
    describe_gauge!(
        DB_POOL_IN_USE,
        "Connections checked out of the database pool"
    );
    describe_gauge!(DB_POOL_MAX, "DATABASE_POOL_SIZE");
    describe_histogram!(
        DB_POOL_WAIT,
        metrics::Unit::Seconds,
        "Time a request waited for a database connection"
    );
    describe_counter!(
        DB_POOL_TIMEOUTS,
        "Requests that waited too long for a database connection (answered 503)"
    );
    describe_gauge!(
        PASSWORD_QUEUED,
        "Password jobs (hashing, verification, strength scoring) waiting for a password thread"
    );
    describe_histogram!(
        PASSWORD_WAIT,
        metrics::Unit::Seconds,
        "Time a password job waited for a password thread"
    );
}

/// Middleware: counts and times every request by method, route pattern and status.
pub async fn record_request(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = method_label(request.method());
    let response = next.call(request).await?;
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let key = SeriesKey {
        route,
        method,
        status: response.status().as_u16(),
    };
    RequestSeries::record(key, started.elapsed());
    Ok(response)
}

/// Which series a request belongs to. Bounded: routes and methods come from fixed lists, and
/// a status is one of the few the handlers answer with.
#[derive(PartialEq, Eq, Hash)]
struct SeriesKey {
    route: String,
    method: &'static str,
    status: u16,
}

/// The handles of one (route, method, status) series, looked up once per worker thread and
/// kept: building the labels and finding them in the registry cost more than the increment and
/// the sample themselves, on every request.
struct RequestSeries {
    requests: metrics::Counter,
    duration: metrics::Histogram,
}

thread_local! {
    static REQUEST_SERIES: RefCell<HashMap<SeriesKey, RequestSeries>> = RefCell::default();
}

impl RequestSeries {
    fn record(key: SeriesKey, duration: Duration) {
        REQUEST_SERIES.with_borrow_mut(|known| {
            let series = known.entry(key).or_insert_with_key(|key| {
                let labels = [
                    ("method", key.method.to_owned()),
                    ("route", key.route.clone()),
                    ("status", key.status.to_string()),
                ];
                Self {
                    requests: counter!(HTTP_REQUESTS, &labels),
                    duration: histogram!(HTTP_DURATION, &labels),
                }
            });
            series.requests.increment(1);
            series.duration.record(duration);
        });
    }
}

/// A fixed set of labels: actix accepts any token as a method, and each would be a series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

// ---- events recorded by the code that knows they happened ----

#[derive(Debug, Clone, Copy)]
pub enum LoginOutcome {
    Ok,
    Failed,
    Throttled,
}

pub fn login(outcome: LoginOutcome) {
    let outcome = match outcome {
        LoginOutcome::Ok => "ok",
        LoginOutcome::Failed => "failed",
        LoginOutcome::Throttled => "throttled",
    };
    counter!(AUTH_LOGINS, "outcome" => outcome).increment(1);
}

pub fn registration() {
    counter!(AUTH_REGISTRATIONS).increment(1);
}

#[derive(Debug, Clone, Copy)]
pub enum RefreshOutcome {
    Rotated,
    Retried,
    ReuseDetected,
    Refused,
}

pub fn refresh(outcome: RefreshOutcome) {
    let outcome = match outcome {
        RefreshOutcome::Rotated => "rotated",
        RefreshOutcome::Retried => "retried",
        RefreshOutcome::ReuseDetected => "reuse_detected",
        RefreshOutcome::Refused => "refused",
    };
    counter!(AUTH_REFRESHES, "outcome" => outcome).increment(1);
}

/// Why sessions were revoked; each is one label value of the revocations counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationReason {
    Logout,
    LogoutAll,
    Revoke,
    PasswordChange,
    PasswordReset,
    AccountDeleted,
    Reuse,
}

pub fn revocation(reason: RevocationReason) {
    let reason = match reason {
        RevocationReason::Logout => "logout",
        RevocationReason::LogoutAll => "logout_all",
        RevocationReason::Revoke => "revoke",
        RevocationReason::PasswordChange => "password_change",
        RevocationReason::PasswordReset => "password_reset",
        RevocationReason::AccountDeleted => "account_deleted",
        RevocationReason::Reuse => "reuse",
    };
    counter!(AUTH_REVOCATIONS, "reason" => reason).increment(1);
}

#[derive(Debug, Clone, Copy)]
pub enum RateLimit {
    Auth,
    TaskWrites,
}

pub fn rate_limited(limit: RateLimit) {
    let limit = match limit {
        RateLimit::Auth => "auth",
        RateLimit::TaskWrites => "task_writes",
    };
    counter!(RATE_LIMITED, "limit" => limit).increment(1);
}

/// r2d2 reports every checkout with the time it waited, and every checkout that timed out.
#[derive(Debug)]
pub struct PoolEvents;

impl r2d2::HandleEvent for PoolEvents {
    fn handle_checkout(&self, event: r2d2::event::CheckoutEvent) {
        histogram!(DB_POOL_WAIT).record(event.duration());
    }

    fn handle_timeout(&self, _event: r2d2::event::TimeoutEvent) {
        counter!(DB_POOL_TIMEOUTS).increment(1);
    }
}

/// A password job entered the queue; the returned value marks when, for [`password_job_started`].
pub fn password_job_queued() -> Instant {
    gauge!(PASSWORD_QUEUED).increment(1.0);
    Instant::now()
}

pub fn password_job_started(queued_at: Instant) {
    gauge!(PASSWORD_QUEUED).decrement(1.0);
    histogram!(PASSWORD_WAIT).record(queued_at.elapsed());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        let invented = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&invented), "other");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
    }
}

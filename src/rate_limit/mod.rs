//! Per-address rate limits on the routes that guess or mint credentials: register, login,
//! refresh and password change ([`AuthRateLimit`]); and per-account limits on task writes
//! ([`TaskWriteLimit`]). Both are token buckets (GCRA) refilling `N` a minute with bursts of a
//! sixth of that, so a person retrying a typo never notices while a flood of guesses is cut off
//! within a few requests.
//!
//! Where the auth buckets live depends on the database. On PostgreSQL, which several instances
//! share, they are rows of `auth_rate_limits` ([`store`]), one conditional upsert per request,
//! so three instances allow one budget, not three. On SQLite (one process) they are in memory.
//! They are keyed per IPv4 address and per IPv6 /64 (one subscriber's allocation: keyed per
//! address, a single /64 would give an attacker 2^64 fresh buckets), and buckets back to full
//! are dropped every minute, so a flood from a million addresses does not leave a million
//! buckets behind (measured before: 37 MB to 109 MB, never shrinking).
//! The per-account login back-off (`accounts/backoff.rs`) is the other limit on guessing.

pub mod store;

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_governor::governor::clock::{Clock, DefaultClock};
use actix_governor::governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::client_addr::TrustedProxies;
use crate::db::{self, Database};
use crate::errors::ApiError;
use crate::ids::UserId;
use crate::operations::metrics::{self, RateLimit};

/// The bucket an address draws on: the address itself for IPv4, its /64 for IPv6.
pub fn bucket_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(_) => address,
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(network))
        }
    }
}

/// How often buckets that are full again are dropped.
const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// Drops `limiter`'s buckets that are full again, every [`PRUNE_INTERVAL`], for as long as the
/// server runs. A dropped bucket is recreated full, which is what it was.
fn spawn_pruning<K>(limiter: Arc<DefaultKeyedRateLimiter<K>>)
where
    K: std::hash::Hash + Eq + Clone + Send + Sync + 'static,
{
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(PRUNE_INTERVAL);
        loop {
            interval.tick().await;
            let before = limiter.len();
            limiter.retain_recent();
            limiter.shrink_to_fit();
            let after = limiter.len();
            if before > after {
                tracing::info!(
                    before,
                    after,
                    "pruned rate-limit buckets that were full again"
                );
            }
        }
    });
}

/// `per_minute` a minute, with bursts of a sixth of it (at least 3, at most `max_burst`).
fn quota(per_minute: NonZeroU32, max_burst: u32) -> Quota {
    let burst =
        NonZeroU32::new((per_minute.get() / 6).clamp(3, max_burst)).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(per_minute).allow_burst(burst)
}

/// The answer for a client that must wait, counted by the limit that refused it.
fn too_many(limit: RateLimit, wait: Duration) -> ApiError {
    metrics::rate_limited(limit);
    ApiError::TooManyRequests {
        retry_after_seconds: wait.as_secs_f64().ceil().max(1.0) as u64,
    }
}

/// Where the auth routes' buckets are kept.
enum AuthBuckets {
    Off,
    /// One process on SQLite.
    InMemory(Arc<DefaultKeyedRateLimiter<IpAddr>>),
    /// Every instance on one PostgreSQL database.
    Shared(Database, Quota),
}

/// The per-address limit of the auth routes. One for the whole server, registered as app data;
/// each limited route wraps itself in [`limit_per_address`].
pub struct AuthRateLimit {
    buckets: AuthBuckets,
    trusted_proxies: TrustedProxies,
}

impl AuthRateLimit {
    /// `per_minute` requests a minute per address (0: no limit), kept in `db` when it is
    /// PostgreSQL.
    pub fn new(per_minute: u32, trusted_proxies: TrustedProxies, db: &Database) -> Self {
        let buckets = match NonZeroU32::new(per_minute) {
            None => AuthBuckets::Off,
            Some(rate) if db.is_shared() => AuthBuckets::Shared(db.clone(), quota(rate, 100)),
            Some(rate) => AuthBuckets::InMemory(Arc::new(RateLimiter::keyed(quota(rate, 100)))),
        };
        Self {
            buckets,
            trusted_proxies,
        }
    }

    /// Takes one request from `address`'s bucket, or says how long until the next is allowed.
    pub async fn check(&self, address: IpAddr) -> Result<(), ApiError> {
        let bucket = bucket_of(address);
        match &self.buckets {
            AuthBuckets::Off => Ok(()),
            AuthBuckets::InMemory(limiter) => limiter.check_key(&bucket).map_err(|not_until| {
                too_many(
                    RateLimit::Auth,
                    not_until.wait_time_from(DefaultClock::default().now()),
                )
            }),
            AuthBuckets::Shared(db, quota) => {
                let (key, period, burst) = (
                    bucket.to_string(),
                    quota.replenish_interval(),
                    quota.burst_size().get(),
                );
                let wait = db
                    .write(move |connection| {
                        store::take(connection, &key, period, burst, db::now())
                    })
                    .await?;
                wait.map_or(Ok(()), |wait| Err(too_many(RateLimit::Auth, wait)))
            }
        }
    }

    /// Drops the buckets that are full again, every [`PRUNE_INTERVAL`], for as long as the
    /// server runs. A dropped bucket is recreated full, which is what it was.
    pub fn spawn_pruning(&self) {
        match &self.buckets {
            AuthBuckets::Off => {}
            AuthBuckets::InMemory(limiter) => spawn_pruning(limiter.clone()),
            AuthBuckets::Shared(db, _) => {
                let db = db.clone();
                actix_web::rt::spawn(async move {
                    let mut interval = actix_web::rt::time::interval(PRUNE_INTERVAL);
                    loop {
                        interval.tick().await;
                        match db
                            .write(|connection| store::prune(connection, db::now()))
                            .await
                        {
                            Ok(0) => {}
                            Ok(pruned) => tracing::info!(
                                pruned,
                                "pruned rate-limit buckets that were full again"
                            ),
                            Err(error) => {
                                tracing::warn!(%error, "could not prune rate-limit buckets")
                            }
                        }
                    }
                });
            }
        }
    }
}

/// The middleware of every route the auth limit covers: `.wrap(from_fn(limit_per_address))`.
/// A request whose client address cannot be known (no peer address) is refused.
pub async fn limit_per_address(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if let Some(limit) = request.app_data::<web::Data<AuthRateLimit>>() {
        let checked = match limit
            .trusted_proxies
            .client_ip(request.peer_addr(), request.headers())
        {
            Some(address) => limit.check(address).await,
            None => Err(ApiError::internal("the client address is unknown")),
        };
        // Answered here, as a response rather than an error, so the middleware further out
        // (request id, metrics, access log) sees the 429 like any other answer.
        if let Err(refused) = checked {
            return Ok(request.error_response(refused).map_into_right_body());
        }
    }
    next.call(request)
        .await
        .map(ServiceResponse::map_into_left_body)
}

/// Task writes per user: a token bucket per account, so one account (with any number of
/// addresses and sessions) cannot write without bound. Measured before: 6,000 tasks in 5 s
/// from one account with 4 threads, about 20 GB an hour.
#[derive(Clone)]
pub struct TaskWriteLimit {
    limiter: Option<Arc<DefaultKeyedRateLimiter<UserId>>>,
}

impl TaskWriteLimit {
    /// `per_minute` writes a minute with bursts of a sixth of it; 0 turns the limit off.
    pub fn new(per_minute: u32) -> Self {
        let limiter = NonZeroU32::new(per_minute)
            .map(|rate| Arc::new(RateLimiter::keyed(quota(rate, 1_000))));
        Self { limiter }
    }

    /// Takes one write from `user`'s bucket, or says how long until the next is allowed.
    pub fn check(&self, user: &UserId) -> Result<(), ApiError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(user).map_err(|not_until| {
            too_many(
                RateLimit::TaskWrites,
                not_until.wait_time_from(DefaultClock::default().now()),
            )
        })
    }

    /// Drops the buckets that are full again, every [`PRUNE_INTERVAL`].
    pub fn spawn_pruning(&self) {
        if let Some(limiter) = self.limiter.clone() {
            spawn_pruning(limiter);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_addresses_share_their_64_and_ipv4_addresses_do_not() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(bucket_of(a), bucket_of(b));
        assert_ne!(bucket_of(a), bucket_of(other));
        let v4: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(bucket_of(v4), v4);
    }

    #[test]
    fn buckets_that_are_full_again_are_pruned() {
        // 60,000 a minute: a bucket refills within milliseconds.
        let limiter: DefaultKeyedRateLimiter<IpAddr> =
            RateLimiter::keyed(quota(NonZeroU32::new(60_000).unwrap(), 100));
        for i in 0..10_000u32 {
            let address = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            let _ = limiter.check_key(&address);
        }
        assert_eq!(limiter.len(), 10_000);
        std::thread::sleep(Duration::from_millis(200));
        limiter.retain_recent();
        limiter.shrink_to_fit();
        assert_eq!(limiter.len(), 0);
    }
}

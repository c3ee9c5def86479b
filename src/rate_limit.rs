//! Per-address rate limits on the routes that guess or mint credentials: register, login,
//! refresh and password change; and per-account limits on task writes ([`TaskWriteLimit`]). A token bucket (actix-governor) refills `AUTH_RATE_LIMIT_PER_MINUTE` tokens a
//! minute with bursts of up to a sixth of that, so a person retrying a typo never notices while
//! a flood of guesses is cut off within a few requests.
//!
//! The buckets live in this process: with several instances each allows the configured rate.
//! They are keyed per IPv4 address and per IPv6 /64 (one subscriber's allocation: keyed per
//! address, a single /64 would give an attacker 2^64 fresh buckets), and buckets back to full
//! are dropped every minute, so a flood from a million addresses does not leave a million
//! buckets behind (measured before: 37 MB to 109 MB, never shrinking).
//! The per-account login back-off (`accounts/backoff.rs`) is the limit that holds across
//! instances.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use actix_governor::governor::clock::{Clock, DefaultClock, QuantaInstant};
use actix_governor::governor::middleware::NoOpMiddleware;
use actix_governor::governor::{DefaultKeyedRateLimiter, NotUntil, Quota, RateLimiter};
use actix_governor::{
    Governor, GovernorConfig, GovernorConfigBuilder, KeyExtractor, SimpleKeyExtractionError,
};
use actix_web::dev::ServiceRequest;
use actix_web::middleware::Condition;
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};

use crate::client_addr::TrustedProxies;
use crate::errors::ApiError;
use crate::ids::UserId;

/// Buckets are keyed by the client address, seen through trusted proxies.
#[derive(Debug, Clone)]
pub struct ClientAddressKey {
    trusted_proxies: TrustedProxies,
}

impl KeyExtractor for ClientAddressKey {
    type Key = IpAddr;
    type KeyExtractionError = SimpleKeyExtractionError<&'static str>;

    fn extract(&self, request: &ServiceRequest) -> Result<IpAddr, Self::KeyExtractionError> {
        self.trusted_proxies
            .client_ip(request.peer_addr(), request.headers())
            .map(bucket_of)
            .ok_or_else(|| SimpleKeyExtractionError::new("the client address is unknown"))
    }

    fn exceed_rate_limit_response(
        &self,
        negative: &NotUntil<QuantaInstant>,
        _: HttpResponseBuilder,
    ) -> HttpResponse {
        let wait = negative.wait_time_from(DefaultClock::default().now());
        ApiError::TooManyRequests {
            retry_after_seconds: wait.as_secs().max(1),
        }
        .error_response()
    }
}

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

/// One set of buckets shared by every worker and every limited route.
#[derive(Clone)]
pub struct AuthRateLimit {
    config: GovernorConfig<ClientAddressKey, NoOpMiddleware<QuantaInstant>>,
    enabled: bool,
}

impl AuthRateLimit {
    pub fn new(per_minute: u32, trusted_proxies: TrustedProxies) -> Self {
        let enabled = per_minute > 0;
        let per_minute = u64::from(per_minute.max(1));
        let config = GovernorConfigBuilder::default()
            .key_extractor(ClientAddressKey { trusted_proxies })
            .milliseconds_per_request((60_000 / per_minute).max(1))
            .burst_size(u32::try_from((per_minute / 6).clamp(3, 100)).unwrap_or(3))
            .finish()
            .unwrap_or_else(|| unreachable!("period and burst size are both non-zero"));
        Self { config, enabled }
    }

    /// Drops the buckets that are full again, every [`PRUNE_INTERVAL`], for as long as the
    /// server runs. A dropped bucket is recreated full, which is what it was.
    pub fn spawn_pruning(&self) {
        spawn_pruning(self.config.limiter());
    }

    /// How many buckets exist now.
    pub fn buckets(&self) -> usize {
        self.config.limiter().len()
    }

    /// The middleware for one limited route; all of them draw on the same buckets.
    pub fn middleware(
        &self,
    ) -> Condition<Governor<ClientAddressKey, NoOpMiddleware<QuantaInstant>>> {
        Condition::new(self.enabled, Governor::new(&self.config))
    }
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
        let limiter = NonZeroU32::new(per_minute).map(|rate| {
            let burst =
                NonZeroU32::new((per_minute / 6).clamp(3, 1_000)).unwrap_or(NonZeroU32::MIN);
            Arc::new(RateLimiter::keyed(
                Quota::per_minute(rate).allow_burst(burst),
            ))
        });
        Self { limiter }
    }

    /// Takes one write from `user`'s bucket, or says how long until the next is allowed.
    pub fn check(&self, user: &UserId) -> Result<(), ApiError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter
            .check_key(user)
            .map_err(|not_until| ApiError::TooManyRequests {
                retry_after_seconds: not_until
                    .wait_time_from(DefaultClock::default().now())
                    .as_secs()
                    .max(1),
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
        let limit = AuthRateLimit::new(60_000, TrustedProxies::default());
        let limiter = limit.config.limiter();
        for i in 0..10_000u32 {
            let address = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            let _ = limiter.check_key(&address);
        }
        assert_eq!(limit.buckets(), 10_000);
        std::thread::sleep(Duration::from_millis(200));
        limiter.retain_recent();
        limiter.shrink_to_fit();
        assert_eq!(limit.buckets(), 0);
    }
}

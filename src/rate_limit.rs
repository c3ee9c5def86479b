//! Per-address rate limits on the routes that guess or mint credentials: register, login and
//! refresh. A token bucket (actix-governor) refills `AUTH_RATE_LIMIT_PER_MINUTE` tokens a
//! minute with bursts of up to a sixth of that, so a person retrying a typo never notices while
//! a flood of guesses is cut off within a few requests.
//!
//! The buckets live in this process: with several instances each allows the configured rate.
//! The per-account login back-off (`accounts/backoff.rs`) is the limit that holds across
//! instances.

use std::net::IpAddr;

use actix_governor::governor::NotUntil;
use actix_governor::governor::clock::{Clock, DefaultClock, QuantaInstant};
use actix_governor::governor::middleware::NoOpMiddleware;
use actix_governor::{
    Governor, GovernorConfig, GovernorConfigBuilder, KeyExtractor, SimpleKeyExtractionError,
};
use actix_web::dev::ServiceRequest;
use actix_web::middleware::Condition;
use actix_web::{HttpResponse, HttpResponseBuilder, ResponseError};

use crate::client_addr::TrustedProxies;
use crate::errors::ApiError;

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

    /// The middleware for one limited route; all of them draw on the same buckets.
    pub fn middleware(
        &self,
    ) -> Condition<Governor<ClientAddressKey, NoOpMiddleware<QuantaInstant>>> {
        Condition::new(self.enabled, Governor::new(&self.config))
    }
}

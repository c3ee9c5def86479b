//! Access tokens this instance verified recently, so a client that sends the same token with
//! every request (as they all do, for up to 15 minutes) has its signature checked and its
//! claims parsed once, not on every request: that was a tenth of the CPU time of a task list.
//!
//! What is kept is exactly what a full verification would answer again:
//! - Only tokens that passed every check are kept, under the whole token text, so a hit means
//!   the very same bytes were verified before. Nothing is kept for a refused token.
//! - `exp` is checked on every hit, with the same leeway as a full verification.
//! - Under EdDSA an entry holds the [`KeyRing`](super::KeyRing) generation it was verified
//!   against; once the ring's set of keys changes, every entry counts as absent.
//! - Revocation is not the cache's business: the guard checks the session on every request,
//!   cached or not.
//!
//! The map is bounded ([`CAPACITY`] tokens) and only ever holds tokens we signed, so no caller
//! can fill it with junk; past the bound, the least used tokens are verified in full again.

use quick_cache::sync::Cache;

use super::access::AuthenticatedUser;

/// Live tokens kept, about 450 bytes each (the token, the email and the session id): at most
/// about 9 MB. Each is one client's current access token; past this many clients within an
/// access token's lifetime, the least used are verified in full again (a few microseconds).
pub const CAPACITY: usize = 20_000;

/// One verified token: who it proves, and until when.
#[derive(Clone)]
struct Verified {
    caller: AuthenticatedUser,
    expires_at: i64,
    key_generation: u64,
}

/// The tokens one set of [`super::AccessTokenKeys`] verified.
pub struct VerifiedTokens {
    tokens: Cache<Box<str>, Verified>,
    leeway_seconds: i64,
}

impl VerifiedTokens {
    pub fn new(capacity: usize, leeway_seconds: u64) -> Self {
        Self {
            tokens: Cache::new(capacity),
            leeway_seconds: leeway_seconds as i64,
        }
    }

    /// The caller `token` proved when it was verified, if that was against the keys of
    /// `key_generation` and it has not expired by `now` (Unix seconds).
    pub fn get(&self, token: &str, key_generation: u64, now: i64) -> Option<AuthenticatedUser> {
        let verified = self.tokens.get(token)?;
        if verified.key_generation != key_generation
            || !is_unexpired(verified.expires_at, now, self.leeway_seconds)
        {
            self.tokens.remove(token);
            return None;
        }
        Some(verified.caller)
    }

    /// Keeps `caller` as what `token`, just verified in full, proves.
    pub fn insert(
        &self,
        token: &str,
        caller: &AuthenticatedUser,
        expires_at: i64,
        key_generation: u64,
    ) {
        self.tokens.insert(
            token.into(),
            Verified {
                caller: caller.clone(),
                expires_at,
                key_generation,
            },
        );
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.tokens.len()
    }
}

/// `jsonwebtoken`'s own rule: a token has expired once `exp` is more than the leeway behind
/// `now`.
pub fn is_unexpired(expires_at: i64, now: i64, leeway_seconds: i64) -> bool {
    expires_at >= now - leeway_seconds
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{SessionId, UserId};

    fn caller() -> AuthenticatedUser {
        AuthenticatedUser {
            user_id: UserId::parse("01890a5d-ac96-774b-bcce-b302099a8057").unwrap(),
            email: "ann@example.org".into(),
            session_id: SessionId::from("01890a5d-ac96-774b-bcce-b302099a8058".to_owned()),
        }
    }

    #[test]
    fn a_token_counts_as_expired_past_the_leeway_as_in_a_full_verification() {
        assert!(is_unexpired(1_000, 1_000, 30));
        assert!(is_unexpired(1_000, 1_030, 30));
        assert!(!is_unexpired(1_000, 1_031, 30));
    }

    #[test]
    fn a_kept_token_answers_until_it_expires_then_is_forgotten() {
        let verified = VerifiedTokens::new(10, 30);
        verified.insert("token", &caller(), 1_000, 0);
        assert_eq!(verified.get("token", 0, 900), Some(caller()));
        assert_eq!(verified.get("token", 0, 1_030), Some(caller()));
        assert_eq!(verified.get("token", 0, 1_031), None);
        assert_eq!(verified.len(), 0);
        assert_eq!(verified.get("token", 0, 900), None);
    }

    #[test]
    fn only_the_exact_token_text_is_found() {
        let verified = VerifiedTokens::new(10, 30);
        verified.insert("header.claims.signature", &caller(), 1_000, 0);
        assert_eq!(verified.get("header.claims.signaturE", 0, 900), None);
        assert_eq!(verified.get("header.claims.signatur", 0, 900), None);
        assert_eq!(verified.get("header.claims.signature ", 0, 900), None);
    }

    #[test]
    fn a_token_verified_against_other_keys_is_not_found() {
        let verified = VerifiedTokens::new(10, 30);
        verified.insert("token", &caller(), 1_000, 3);
        assert_eq!(verified.get("token", 4, 900), None);
        assert_eq!(verified.get("token", 3, 900), None);
    }

    #[test]
    fn the_map_stays_within_its_capacity() {
        let verified = VerifiedTokens::new(100, 30);
        for n in 0..1_000 {
            verified.insert(&format!("token {n}"), &caller(), 1_000, 0);
        }
        assert!(verified.len() <= 100, "{} tokens kept", verified.len());
    }
}

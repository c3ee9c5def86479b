//! Password hashing with argon2id, stored as PHC strings.
//!
//! Hashing is deliberately slow and memory-hungry, so it runs on the password threads
//! ([`PasswordHasher::run`], see `password_work.rs`), never on an async worker. Login for an unknown email verifies against a
//! dummy hash made with the same parameters, so "no such user" and "wrong password" take about
//! the same time and cannot be told apart by timing.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use super::password_work::{PasswordWork, PasswordWorkLost};
use crate::config::PasswordHashParams;

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    dummy_hash: Arc<OnceLock<String>>,
    work: PasswordWork,
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(String);

impl PasswordHasher {
    pub fn new(settings: PasswordHashParams, work: PasswordWork) -> Result<Self, HashError> {
        let params = Params::new(
            settings.memory_kib,
            settings.iterations,
            settings.parallelism,
            None,
        )
        .map_err(|error| HashError(format!("invalid argon2 parameters: {error}")))?;
        Ok(Self {
            params,
            dummy_hash: Arc::new(OnceLock::new()),
            work,
        })
    }

    /// Runs `job` with this hasher on a password thread and waits for it.
    pub async fn run<T, F>(&self, job: F) -> Result<T, PasswordWorkLost>
    where
        F: FnOnce(&PasswordHasher) -> T + Send + 'static,
        T: Send + 'static,
    {
        let hasher = self.clone();
        self.work.run(move || job(&hasher)).await
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// Hashes with a fresh random salt. Blocking: call through [`PasswordHasher::run`].
    pub fn hash(&self, password: &str) -> Result<String, HashError> {
        let salt = SaltString::generate(&mut OsRng);
        self.argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| HashError(error.to_string()))
    }

    /// Checks `password` against a stored PHC string; the parameters stored in the hash are the
    /// ones used, so raising the configured cost does not lock out existing users.
    pub fn verify(&self, password: &str, stored_hash: &str) -> bool {
        match PasswordHash::new(stored_hash) {
            Ok(parsed) => self
                .argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
            Err(_) => false,
        }
    }

    /// Spends the same work as a real verification, for an email that has no account.
    pub fn verify_against_dummy(&self, password: &str) {
        let dummy = self.dummy_hash.get_or_init(|| {
            self.hash("dummy password for timing equalisation")
                .unwrap_or_default()
        });
        let _ = self.verify(password, dummy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordHasher {
        PasswordHasher::new(
            PasswordHashParams {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            PasswordWork::start(1).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn hashes_are_argon2id_phc_strings_that_verify() {
        let hasher = cheap();
        let hash = hasher.hash("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        assert!(hasher.verify("correct horse", &hash));
        assert!(!hasher.verify("wrong horse", &hash));
        assert!(!hasher.verify("correct horse", "not a hash"));
    }

    #[test]
    fn the_same_password_gets_a_different_salt_each_time() {
        let hasher = cheap();
        assert_ne!(hasher.hash("same").unwrap(), hasher.hash("same").unwrap());
    }

    #[test]
    fn default_parameters_are_owasps() {
        let hasher = PasswordHasher::new(
            PasswordHashParams::default(),
            PasswordWork::start(1).unwrap(),
        )
        .unwrap();
        let hash = hasher.hash("correct horse").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }
}

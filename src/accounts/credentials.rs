//! What a person types to get an account, parsed into types that are valid by construction.
//! Handlers parse once; code that holds an [`Email`] or a [`NewPassword`] never re-checks it.

use crate::errors::FieldError;

pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 128;
const NAME_MAX_CHARS: usize = 100;
/// RFC 5321 §4.5.3.1.3: a path is at most 256 octets, so an address at most 254.
const EMAIL_MAX_CHARS: usize = 254;

/// An email address, trimmed and lower-cased so that lookups and the UNIQUE index are
/// case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let normalized = raw.trim().to_lowercase();
        let invalid = || FieldError::new("email", "must be a valid email address");
        // Whitespace and angle brackets only appear in "Name <address>" forms and typos.
        if normalized.is_empty()
            || normalized.chars().count() > EMAIL_MAX_CHARS
            || normalized
                .chars()
                .any(|c| c.is_whitespace() || c == '<' || c == '>')
        {
            return Err(invalid());
        }
        let parsed: email_address::EmailAddress = normalized.parse().map_err(|_| invalid())?;
        // Display names ("Ann <ann@x.org>") parse too; only the bare address is an account id.
        if parsed.as_str() != normalized || !parsed.domain().contains('.') {
            return Err(invalid());
        }
        Ok(Self(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// zxcvbn's score runs 0 (among the most common passwords) to 4. Below 2 a password falls to
/// an online guessing attack even when throttled (NIST SP 800-63B §5.1.1.2: refuse commonly
/// used and expected passwords).
const MIN_PASSWORD_SCORE: u8 = 2;

/// How much of a password zxcvbn scores. Its cost grows steeply with length and with the
/// characters it tries as l33t substitutions (measured on a worst case: 43 ms for 16 such
/// characters, 115 ms for 32, 970 ms for 128), so only this prefix is scored. A password whose
/// first 32 characters are easy to guess is easy to guess.
pub const SCORED_PREFIX_CHARS: usize = 32;

/// A new password that meets the length rules and has not been scored yet. Scoring is the
/// expensive step; see [`super::strength`]. Never logged: `Debug` is redacted.
pub struct CandidatePassword(String);

impl CandidatePassword {
    pub fn parse(raw: String, field: &str) -> Result<Self, FieldError> {
        let chars = raw.chars().count();
        if chars < PASSWORD_MIN_CHARS {
            return Err(FieldError::new(
                field,
                format!("must be at least {PASSWORD_MIN_CHARS} characters"),
            ));
        }
        if chars > PASSWORD_MAX_CHARS {
            return Err(FieldError::new(
                field,
                format!("must be at most {PASSWORD_MAX_CHARS} characters"),
            ));
        }
        Ok(Self(raw))
    }
}

impl std::fmt::Debug for CandidatePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CandidatePassword(<redacted>)")
    }
}

/// A password chosen at registration (or a password change): within the length rules and not
/// easily guessed. Never logged: `Debug` is redacted.
pub struct NewPassword(String);

impl NewPassword {
    /// The length rules, then the score: [`CandidatePassword::parse`] and [`Self::judge`].
    pub fn parse(
        raw: String,
        field: &str,
        email: &str,
        name: Option<&str>,
    ) -> Result<Self, FieldError> {
        Self::judge(CandidatePassword::parse(raw, field)?, field, email, name)
    }

    /// Scores `candidate` (its first [`SCORED_PREFIX_CHARS`] characters). `email` and `name`
    /// are what the account already says about its owner: a password built from them is easy
    /// to guess for anyone who knows the account. CPU-bound for up to ~100 ms: call it
    /// through [`super::strength::PasswordJudge`], never on an async worker.
    pub fn judge(
        candidate: CandidatePassword,
        field: &str,
        email: &str,
        name: Option<&str>,
    ) -> Result<Self, FieldError> {
        let scored: String = candidate.0.chars().take(SCORED_PREFIX_CHARS).collect();
        let estimate = zxcvbn::zxcvbn(&scored, &account_words(email, name));
        if u8::from(estimate.score()) < MIN_PASSWORD_SCORE {
            let reason = estimate
                .feedback()
                .and_then(|feedback| feedback.warning())
                .map(|warning| format!(" ({warning})"))
                .unwrap_or_default();
            return Err(FieldError::new(
                field,
                format!("is too easy to guess{reason}; try a longer phrase of unrelated words"),
            ));
        }
        Ok(Self(candidate.0))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The address, its local part, and every word of the local part and the name, as zxcvbn's
/// dictionary of things an attacker who knows the account would try first.
fn account_words<'a>(email: &'a str, name: Option<&'a str>) -> Vec<&'a str> {
    let local_part = email.split('@').next().unwrap_or_default();
    let words = local_part
        .split(|c: char| !c.is_alphanumeric())
        .chain(
            name.unwrap_or_default()
                .split(|c: char| !c.is_alphanumeric()),
        )
        .filter(|word| word.chars().count() >= 3);
    [email, local_part].into_iter().chain(words).collect()
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(<redacted>)")
    }
}

/// The optional name shown in the client. Blank means none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(Option<String>);

impl DisplayName {
    pub fn parse(raw: Option<String>) -> Result<Self, FieldError> {
        let Some(name) = raw
            .map(|name| name.trim().to_owned())
            .filter(|n| !n.is_empty())
        else {
            return Ok(Self(None));
        };
        if name.chars().count() > NAME_MAX_CHARS {
            return Err(FieldError::new(
                "name",
                format!("must be at most {NAME_MAX_CHARS} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(FieldError::new(
                "name",
                "must not contain control characters",
            ));
        }
        Ok(Self(Some(name)))
    }

    pub fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        assert_eq!(
            Email::parse("  Ann@Example.ORG ").unwrap().as_str(),
            "ann@example.org"
        );
    }

    #[test]
    fn invalid_emails_are_refused() {
        for raw in [
            "",
            "ann",
            "ann@",
            "@example.org",
            "ann@localhost",
            "Ann <ann@x.org>",
            "a b@x.org",
        ] {
            assert!(Email::parse(raw).is_err(), "{raw:?} should be refused");
        }
        let long = format!("{}@example.org", "a".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn password_length_is_counted_in_characters() {
        assert!(NewPassword::parse("Zq7#pL2".into(), "password", "", None).is_err());
        assert!(NewPassword::parse("Zq7#pL2!".into(), "password", "", None).is_ok());
        // 128 characters, 2 bytes each for some: the limit is on characters, not bytes.
        let alphabet: Vec<char> = "éßqZ7#pL2!kRwüx".chars().collect();
        let long: String = (0..128usize)
            .map(|i| alphabet[(i * 7 + i / 5) % alphabet.len()])
            .collect();
        assert_eq!(long.chars().count(), 128);
        assert!(NewPassword::parse(long.clone(), "password", "", None).is_ok());
        assert!(NewPassword::parse(long + "x", "password", "", None).is_err());
    }

    #[test]
    fn common_and_guessable_passwords_are_refused_with_a_reason() {
        for weak in [
            "password",
            "12345678",
            "password123",
            "qwertyuiop",
            "iloveyou1",
        ] {
            let error = NewPassword::parse(weak.into(), "password", "", None).unwrap_err();
            assert!(
                error.message.contains("too easy to guess"),
                "{weak}: {}",
                error.message
            );
        }
        assert!(
            NewPassword::parse("correct horse battery staple".into(), "password", "", None).is_ok()
        );
    }

    #[test]
    fn passwords_built_from_the_account_itself_are_refused() {
        let parse = |password: &str| {
            NewPassword::parse(
                password.into(),
                "password",
                "annabelle.smithers@example.org",
                Some("Annabelle Smithers"),
            )
        };
        assert!(parse("annabellesmithers").is_err());
        assert!(parse("annabelle.smithers@example.org").is_err());
    }

    #[test]
    fn password_is_never_printed() {
        let password =
            NewPassword::parse("correct horse battery".into(), "password", "", None).unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[test]
    fn blank_name_means_none() {
        assert_eq!(
            DisplayName::parse(Some("   ".into())).unwrap(),
            DisplayName(None)
        );
        assert_eq!(
            DisplayName::parse(Some(" Ann ".into())).unwrap(),
            DisplayName(Some("Ann".into()))
        );
        assert!(DisplayName::parse(Some("x".repeat(101))).is_err());
    }
}

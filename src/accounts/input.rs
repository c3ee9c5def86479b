//! What clients send to create an account, log in or change a password, parsed into domain
//! values. Every missing or invalid field is named once in one 422.

use serde::Deserialize;

use super::credentials::{CandidatePassword, DisplayName, Email};
use crate::errors::ApiError;
use crate::extract::FieldErrors;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(value_type = String, required = true, format = Email)]
    pub email: Option<String>,
    /// 8 to 128 characters, and not easy to guess.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 128)]
    pub password: Option<String>,
    #[schema(max_length = 100)]
    pub name: Option<String>,
}

/// A valid registration, but for the password's score: that is judged next, off the async
/// workers (`strength.rs`), and only once every cheap check has passed.
#[derive(Debug)]
pub struct Registration {
    pub email: Email,
    pub password: CandidatePassword,
    pub name: DisplayName,
}

impl RegisterRequest {
    pub fn parse(self) -> Result<Registration, ApiError> {
        let mut errors = FieldErrors::default();
        let raw_email = errors.required(self.email, "email");
        let raw_password = errors.required(self.password, "password");
        let email = raw_email
            .as_deref()
            .and_then(|raw| errors.check(Email::parse(raw)));
        let password =
            raw_password.and_then(|raw| errors.check(CandidatePassword::parse(raw, "password")));
        let name = DisplayName::parse(self.name);
        let name = errors.check(name);
        errors.finish_with(|| {
            Some(Registration {
                email: email?,
                password: password?,
                name: name?,
            })
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(value_type = String, required = true)]
    pub email: Option<String>,
    #[schema(value_type = String, required = true)]
    pub password: Option<String>,
}

/// A login attempt. The email stays as typed: one that cannot be an account is still answered
/// like a wrong password, after the same amount of work.
#[derive(Debug)]
pub struct LoginAttempt {
    pub email: String,
    pub password: String,
}

impl LoginRequest {
    pub fn parse(self) -> Result<LoginAttempt, ApiError> {
        let mut errors = FieldErrors::default();
        let email = errors.required(self.email, "email");
        let password = errors.required(self.password, "password");
        errors.finish_with(|| {
            Some(LoginAttempt {
                email: email?,
                password: password?,
            })
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(value_type = String, required = true)]
    pub current_password: Option<String>,
    /// 8 to 128 characters, and not easy to guess.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 128)]
    pub new_password: Option<String>,
}

/// A password change as sent. The new password meets the length rules; its score is judged
/// against the account it is for, after the current password has been checked.
#[derive(Debug)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: CandidatePassword,
}

impl ChangePasswordRequest {
    pub fn parse(self) -> Result<PasswordChange, ApiError> {
        let mut errors = FieldErrors::default();
        let current_password = errors.required(self.current_password, "current_password");
        let new_password = errors
            .required(self.new_password, "new_password")
            .and_then(|raw| errors.check(CandidatePassword::parse(raw, "new_password")));
        errors.finish_with(|| {
            Some(PasswordChange {
                current_password: current_password?,
                new_password: new_password?,
            })
        })
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailRequest {
    /// The token from the mailed link.
    #[schema(value_type = String, required = true, max_length = 256)]
    pub token: Option<String>,
}

impl VerifyEmailRequest {
    pub fn parse(self) -> Result<String, ApiError> {
        let mut errors = FieldErrors::default();
        let token = errors.required(self.token, "token");
        errors.finish_with(|| token)
    }
}

/// Without a bearer token, the address to send a new link to.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResendVerificationRequest {
    #[schema(value_type = String, format = Email)]
    pub email: Option<String>,
}

impl ResendVerificationRequest {
    pub fn parse(self) -> Result<Email, ApiError> {
        PasswordResetRequest { email: self.email }.parse()
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    /// The account's current password, to confirm.
    #[schema(value_type = String, required = true)]
    pub password: Option<String>,
}

impl DeleteAccountRequest {
    pub fn parse(self) -> Result<String, ApiError> {
        let mut errors = FieldErrors::default();
        let password = errors.required(self.password, "password");
        errors.finish_with(|| password)
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    #[schema(value_type = String, format = Email, required = true)]
    pub email: Option<String>,
}

impl PasswordResetRequest {
    /// The address to send a link to. Only its syntax is judged here: whether it has an
    /// account is never part of the answer.
    pub fn parse(self) -> Result<Email, ApiError> {
        let mut errors = FieldErrors::default();
        let email = errors
            .required(self.email, "email")
            .and_then(|raw| errors.check(Email::parse(&raw)));
        errors.finish_with(|| email)
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirmRequest {
    /// The token from the mailed link.
    #[schema(value_type = String, required = true, max_length = 256)]
    pub token: Option<String>,
    /// 8 to 128 characters, and not easy to guess.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 128)]
    pub new_password: Option<String>,
}

/// A reset as sent: the token (any string; a wrong one simply matches nothing) and a new
/// password that meets the length rules.
#[derive(Debug)]
pub struct PasswordResetConfirm {
    pub token: String,
    pub new_password: CandidatePassword,
}

impl PasswordResetConfirmRequest {
    pub fn parse(self) -> Result<PasswordResetConfirm, ApiError> {
        let mut errors = FieldErrors::default();
        let token = errors.required(self.token, "token");
        let new_password = errors
            .required(self.new_password, "new_password")
            .and_then(|raw| errors.check(CandidatePassword::parse(raw, "new_password")));
        errors.finish_with(|| {
            Some(PasswordResetConfirm {
                token: token?,
                new_password: new_password?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(error: ApiError) -> Vec<(String, String)> {
        match error {
            ApiError::Validation(fields) => fields
                .into_iter()
                .map(|field| (field.field, field.message))
                .collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn an_empty_registration_names_each_missing_field_once() {
        let empty = RegisterRequest {
            email: None,
            password: None,
            name: None,
        };
        assert_eq!(
            fields(empty.parse().unwrap_err()),
            [
                ("email".to_owned(), "is required".to_owned()),
                ("password".to_owned(), "is required".to_owned())
            ]
        );
    }

    #[test]
    fn every_invalid_registration_field_is_named() {
        let bad = RegisterRequest {
            email: Some("not-an-email".into()),
            password: Some("short".into()),
            name: Some("x".repeat(101)),
        };
        let named: Vec<String> = fields(bad.parse().unwrap_err())
            .into_iter()
            .map(|(field, _)| field)
            .collect();
        assert_eq!(named, ["email", "password", "name"]);
    }

    #[test]
    fn login_and_password_change_require_both_fields() {
        let login = LoginRequest {
            email: None,
            password: None,
        };
        assert_eq!(fields(login.parse().unwrap_err()).len(), 2);
        let change = ChangePasswordRequest {
            current_password: Some("x".into()),
            new_password: None,
        };
        assert_eq!(
            fields(change.parse().unwrap_err()),
            [("new_password".to_owned(), "is required".to_owned())]
        );
    }
}

//! The messages themselves: plain text and HTML, no tracking, no images, nothing secret but
//! the one-time link.

use crate::accounts::credentials::Email;

/// A message ready to be queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The link a password reset mail carries. The token travels in the fragment, which browsers
/// never send to a server, so it stays out of proxy logs and `Referer` headers.
pub fn password_reset_link(public_url: &str, token: &str) -> String {
    format!(
        "{}/#reset-password={token}",
        public_url.trim_end_matches('/')
    )
}

pub fn password_reset(to: &Email, link: &str, valid_minutes: u64) -> OutgoingMail {
    let address = to.as_str();
    let text = format!(
        "Someone asked to reset the password of the todo-server account {address}.\r\n\
         \r\n\
         To choose a new password, open this link within {valid_minutes} minutes:\r\n\
         {link}\r\n\
         \r\n\
         If it was not you, ignore this message: the password stays as it is.\r\n"
    );
    let html = format!(
        "<!DOCTYPE html>\n<html><body>\n\
         <p>Someone asked to reset the password of the todo-server account {address}.</p>\n\
         <p>To choose a new password, open this link within {valid_minutes} minutes:<br>\n\
         <a href=\"{link}\">{link}</a></p>\n\
         <p>If it was not you, ignore this message: the password stays as it is.</p>\n\
         </body></html>\n",
        address = escape_html(address),
        link = escape_html(link),
    );
    OutgoingMail {
        to: address.to_owned(),
        subject: "Reset your todo-server password".into(),
        text,
        html,
    }
}

/// The link of an address-verification mail (the token in the fragment, as for reset).
pub fn verify_email_link(public_url: &str, token: &str) -> String {
    format!("{}/#verify-email={token}", public_url.trim_end_matches('/'))
}

pub fn verify_email(to: &Email, link: &str, valid_hours: u64) -> OutgoingMail {
    let address = to.as_str();
    let text = format!(
        "Confirm that {address} is your address for todo-server by opening this link\r\n\
         within {valid_hours} hours:\r\n\
         {link}\r\n\
         \r\n\
         If you did not sign up, ignore this message.\r\n"
    );
    let html = format!(
        "<!DOCTYPE html>\n<html><body>\n\
         <p>Confirm that {address} is your address for todo-server by opening this link within {valid_hours} hours:<br>\n\
         <a href=\"{link}\">{link}</a></p>\n\
         <p>If you did not sign up, ignore this message.</p>\n\
         </body></html>\n",
        address = escape_html(address),
        link = escape_html(link),
    );
    OutgoingMail {
        to: address.to_owned(),
        subject: "Confirm your todo-server address".into(),
        text,
        html,
    }
}

/// To the owner of an address someone tried to register again: no link that does anything,
/// only where to go if it was them.
pub fn signup_attempt(to: &Email, public_url: &str) -> OutgoingMail {
    let address = to.as_str();
    let home = public_url.trim_end_matches('/');
    let text = format!(
        "Someone tried to create a todo-server account with {address}, which already has one.\r\n\
         \r\n\
         If it was you, log in at {home}/ (or reset your password there).\r\n\
         If it was not, ignore this message: nothing has changed.\r\n"
    );
    let html = format!(
        "<!DOCTYPE html>\n<html><body>\n\
         <p>Someone tried to create a todo-server account with {address}, which already has one.</p>\n\
         <p>If it was you, log in at <a href=\"{home}/\">{home}/</a> (or reset your password there).</p>\n\
         <p>If it was not, ignore this message: nothing has changed.</p>\n\
         </body></html>\n",
        address = escape_html(address),
        home = escape_html(home),
    );
    OutgoingMail {
        to: address.to_owned(),
        subject: "Someone tried to sign up with your address".into(),
        text,
        html,
    }
}

fn escape_html(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for character in value.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_carries_the_token_in_the_fragment() {
        assert_eq!(
            password_reset_link("https://todo.example.org/", "abc_-1"),
            "https://todo.example.org/#reset-password=abc_-1"
        );
    }

    #[test]
    fn both_bodies_carry_the_link_and_nothing_is_markup_that_should_not_be() {
        let email = Email::parse("o'brien&co@example.org").unwrap();
        let mail = password_reset(&email, "https://x.example/#reset-password=t0k", 30);
        assert!(mail.text.contains("https://x.example/#reset-password=t0k"));
        assert!(
            mail.html
                .contains("href=\"https://x.example/#reset-password=t0k\"")
        );
        assert!(mail.html.contains("o&#39;brien&amp;co@example.org"));
        assert!(!mail.html.contains("<img"), "no tracking pixels");
    }
}

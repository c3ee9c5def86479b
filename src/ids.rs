//! Typed ids: a [`UserId`] cannot be passed where a [`TaskId`] is expected, and a function that
//! returns a session and its owner returns two different types rather than two `String`s.
//!
//! Every id is a UUID (version 7, so ids sort by creation time) kept in its canonical form,
//! lower-case and hyphenated, which is also how it is stored as text on both backends. An id
//! read back from the database is trusted as canonical; one read from a client goes through
//! [`parse`](UserId::parse) (directly, or through `Deserialize` for path segments).

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7().hyphenated().to_string())
            }

            /// Any spelling of a UUID, in canonical form; `None` for anything else.
            pub fn parse(raw: &str) -> Option<Self> {
                uuid::Uuid::parse_str(raw)
                    .ok()
                    .map(|id| Self(id.hyphenated().to_string()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        /// Ids read from the database, which only ever stores canonical ones.
        impl From<String> for $name {
            fn from(stored: String) -> Self {
                Self(stored)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        /// From a path segment: anything but a UUID fails, and the app's `PathConfig`
        /// answers that like a missing resource (404).
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&raw).ok_or_else(|| serde::de::Error::custom("not a UUID"))
            }
        }
    };
}

typed_id!(
    /// A user account.
    UserId
);
typed_id!(
    /// A session: one login, and every refresh token descended from it.
    SessionId
);
typed_id!(
    /// One task of one user.
    TaskId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_to_the_canonical_form_or_not_at_all() {
        assert_eq!(
            TaskId::parse("0190F1A2-0000-7000-8000-000000000001")
                .unwrap()
                .as_str(),
            "0190f1a2-0000-7000-8000-000000000001"
        );
        assert!(TaskId::parse("42").is_none());
        assert!(UserId::parse("").is_none());
    }

    #[test]
    fn generated_ids_are_canonical_and_distinct() {
        let id = SessionId::generate();
        assert_eq!(SessionId::parse(id.as_str()), Some(id.clone()));
        assert_ne!(id, SessionId::generate());
    }
}

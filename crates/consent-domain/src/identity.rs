//! Identifiers of the things the ledger talks about.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The id of one fact. UUIDv7 (time-ordered) when the ledger assigns it.
/// Two events with the same id are the same fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EventId(pub uuid::Uuid);

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

macro_rules! text_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id. Callers at the edges validate it is non-empty.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

text_id!(
    /// An organisation that markets (a controller / sender).
    OrganisationId
);
text_id!(
    /// A data subject: the person or subscriber marketed to, as the
    /// organisation identifies them.
    SubjectId
);
text_id!(
    /// One of an organisation's product or service categories.
    ProductCategoryId
);

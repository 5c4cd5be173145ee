//! Typed identifiers: one UUIDv7 newtype per product noun, so a participant id can never be
//! passed where a session id is expected. They serialise as plain UUID strings.

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, sqlx::Type, utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A new, time-ordered id.
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// An organizer account.
    OrganizerId
);
id_type!(
    /// An image an organizer uploaded.
    ImageId
);
id_type!(
    /// An API or login token of an organizer.
    TokenId
);
id_type!(
    /// A one-time link that invites an organizer or resets a password.
    LinkId
);
id_type!(
    /// A session (one live event).
    SessionId
);
id_type!(
    /// A participant in one session.
    ParticipantId
);
id_type!(
    /// An activity in a session.
    ActivityId
);
id_type!(
    /// One stored response.
    ResponseId
);
id_type!(
    /// A saved session template (its numbered versions hang off it).
    TemplateId
);

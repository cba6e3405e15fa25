//! The ids of the domain as types of their own, so that a tenant's id cannot be passed
//! where an operation's is wanted. On the wire and in Valkey they are plain UUIDs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
        )]
        #[serde(transparent)]
        #[schema(value_type = Uuid)]
        pub struct $name(pub Uuid);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                text.parse().map(Self)
            }
        }
    };
}

id! {
    /// A tenant: everything it creates is invisible to the others.
    TenantId
}

id! {
    /// An operation (a UUIDv7, so ids sort by creation).
    OperationId
}

impl OperationId {
    /// A new id, later than every id made before it here.
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }
}

//! The kinds of long-running operation, each declared once: its name in the status
//! document. Its job (what a worker is asked to do) is a variant of `job::Job`.

use crate::contract::{KIND_BULK_IMPORT, KIND_COMPENSATION};

/// The kinds of long-running operation, each declared once: its name in the status
/// document. A job names its kind; the store keeps the kind with the operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperationKind {
    /// Import items into the tenant's sample entities.
    BulkImport,
    /// Undo a completed bulk import (saga rollback).
    Compensation,
}

impl OperationKind {
    pub const ALL: [Self; 2] = [Self::BulkImport, Self::Compensation];

    /// The `kind` of the status document.
    pub fn name(self) -> &'static str {
        match self {
            Self::BulkImport => KIND_BULK_IMPORT,
            Self::Compensation => KIND_COMPENSATION,
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_by_name() {
        for kind in OperationKind::ALL {
            assert_eq!(OperationKind::parse(kind.name()), Some(kind));
        }
        assert_eq!(OperationKind::parse("unknown"), None);
    }
}

//! The operator's console (`/ui`).

mod served;

//! Crashes injected at named points of the intake (the store's own are in `shared`): the
//! same switch, `PARTICIPANT_FAIL_POINT`.

pub use shared::fail_point::reached;

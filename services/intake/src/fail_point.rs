//! Crashes injected at named points, for tests that must show what happens when the intake
//! dies at the worst moment. Compiled only with the `fail-points` feature, which only the
//! integration tests enable.

/// Aborts the process when `PARTICIPANT_FAIL_POINT` names this point.
pub fn reached(point: &str) {
    if std::env::var("PARTICIPANT_FAIL_POINT").is_ok_and(|p| p == point) {
        eprintln!("fail point {point} reached: aborting");
        std::process::abort();
    }
}

//! Crashes injected at named points, for tests that must show what happens when a process
//! dies at the worst moment. Compiled only with the `fail-points` feature, which only the
//! integration tests enable (through the intake's feature of the same name).

/// The variable that names the point to crash at.
const VARIABLE: &str = "PARTICIPANT_FAIL_POINT";

/// Is the process to crash at `point`?
pub fn armed(point: &str) -> bool {
    std::env::var(VARIABLE).is_ok_and(|p| p == point)
}

/// Aborts the process when `PARTICIPANT_FAIL_POINT` names this point.
pub fn reached(point: &str) {
    if armed(point) {
        eprintln!("fail point {point} reached: aborting");
        std::process::abort();
    }
}

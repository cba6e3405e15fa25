//! The peer the participant is measured against, built the way an apalis 1.0 user would
//! build the same service: an axum intake that pushes each bulk import into
//! `apalis_redis::RedisStorage` and answers `202`, an apalis worker that writes one entity
//! hash per item and the progress to Redis, and a status endpoint that merges apalis' view
//! of the task with that progress. It does none of what the participant adds (events,
//! fencing, exactly-once imports, tenants); it is here to be measured beside it.
//!
//! - [`store`]: the job, the apalis settings both roles share, and the Redis keys.
//! - [`intake`]: the route table and its two handlers (`serve`).
//! - [`worker`]: the job body and the apalis worker that runs it (`worker`).

pub mod intake;
pub mod store;
pub mod worker;

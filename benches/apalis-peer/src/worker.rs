//! The worker side (`apalis-peer worker`): apalis polls apalis-redis for tasks and runs up
//! to `concurrency` of them at once, each on its own tokio task; a task writes its progress
//! hash (`running`), one entity hash per item with the progress after each, then
//! `completed` and the time.

use std::future::Future;

use apalis::prelude::{
    BackendExt as _, BoxDynError, Data, Event, EventListenerExt as _, ParallelizeExt as _, TaskId,
    WorkerBuilder, WorkerBuilderExt as _,
};
use apalis_redis::{ConnectionManager, RedisStorage};

use crate::store::{BulkImport, Settings, entity_key, now_micros, progress_key};

/// Runs one worker of `concurrency` slots until `shutdown` resolves. apalis-redis refuses
/// a second running worker of the same `name`.
pub async fn run(
    redis: ConnectionManager,
    settings: Settings,
    name: &str,
    concurrency: usize,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let backend = RedisStorage::<BulkImport>::new(redis.clone())
        .with_config(settings.config())
        .poll_with_interval(settings.poll());
    WorkerBuilder::new(name)
        .backend(backend)
        .parallelize(tokio::spawn)
        .concurrency(concurrency)
        .data(redis)
        .on_event(|context, event| match event {
            Event::Error(error) => eprintln!("worker {}: task failed: {error}", context.name()),
            Event::Start | Event::Stop => eprintln!("worker {}: {event:?}", context.name()),
            _ => {}
        })
        .build(import)
        .run_until(async move {
            shutdown.await;
            Ok::<(), std::io::Error>(())
        })
        .await?;
    Ok(())
}

/// The job: `running`, then per item its entity hash and the progress in one pipeline,
/// then `completed` and the time.
async fn import(
    job: BulkImport,
    id: TaskId,
    redis: Data<ConnectionManager>,
) -> Result<(), BoxDynError> {
    let mut redis = (*redis).clone();
    let id = id.to_string();
    let progress = progress_key(&id);
    redis::cmd("HSET")
        .arg(&progress)
        .arg("state")
        .arg("running")
        .arg("total")
        .arg(job.items.len())
        .arg("current")
        .arg(0)
        .arg("started_at")
        .arg(now_micros())
        .exec_async(&mut redis)
        .await?;
    for (index, item) in job.items.iter().enumerate() {
        redis::pipe()
            .cmd("HSET")
            .arg(entity_key(uuid::Uuid::new_v4()))
            .arg("name")
            .arg(&item.name)
            .arg("op")
            .arg(&id)
            .arg("idx")
            .arg(index)
            .ignore()
            .hset(&progress, "current", index + 1)
            .ignore()
            .exec_async(&mut redis)
            .await?;
    }
    redis::cmd("HSET")
        .arg(&progress)
        .arg("state")
        .arg("completed")
        .arg("completed_at")
        .arg(now_micros())
        .exec_async(&mut redis)
        .await?;
    Ok(())
}

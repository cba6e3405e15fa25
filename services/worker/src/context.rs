//! What every delivery of one worker shares.

use std::sync::Arc;

use shared::config::Settings;
use shared::connect::Deps;
use shared::event::EventPublisher;
use tokio_util::sync::CancellationToken;

use crate::cancels::Cancels;

pub struct Context {
    pub settings: Settings,
    pub deps: Deps,
    pub events: EventPublisher,
    pub cancels: Arc<Cancels>,
    pub shutdown: CancellationToken,
}

impl Context {
    pub fn new(settings: Settings, deps: Deps, shutdown: CancellationToken) -> Self {
        let events = EventPublisher::new(deps.jetstream.clone(), deps.names.clone());
        Self {
            settings,
            deps,
            events,
            cancels: Arc::new(Cancels::default()),
            shutdown,
        }
    }
}

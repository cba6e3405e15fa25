//! What every handler shares.

use std::sync::Arc;

use shared::config::Settings;
use shared::connect::Deps;
use shared::event::EventPublisher;

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    deps: Deps,
    events: EventPublisher,
}

impl AppState {
    pub fn new(settings: Settings, deps: Deps) -> Self {
        let events = EventPublisher::new(deps.jetstream.clone(), deps.names.clone());
        Self {
            inner: Arc::new(Inner {
                settings,
                deps,
                events,
            }),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn deps(&self) -> &Deps {
        &self.inner.deps
    }

    pub fn events(&self) -> &EventPublisher {
        &self.inner.events
    }
}

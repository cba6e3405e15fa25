//! What every handler shares.

use std::sync::{Arc, OnceLock};

use shared::callback::AddressPolicy;
use shared::config::Settings;
use shared::connect::Deps;
use shared::event::EventPublisher;
use tokio_util::task::TaskTracker;

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Settings,
    deps: Deps,
    events: EventPublisher,
    openapi: OnceLock<String>,
    tasks: TaskTracker,
    callback_policy: AddressPolicy,
}

impl AppState {
    pub fn new(settings: Settings, deps: Deps) -> Self {
        let events = EventPublisher::new(deps.jetstream.clone(), deps.names.clone());
        let callback_policy = settings.callbacks.address_policy();
        Self {
            inner: Arc::new(Inner {
                settings,
                deps,
                events,
                openapi: OnceLock::new(),
                tasks: TaskTracker::new(),
                callback_policy,
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

    /// Which callback URLs operations may be started with.
    pub fn callback_policy(&self) -> &AddressPolicy {
        &self.inner.callback_policy
    }

    /// Request work that must finish even if its client disconnects; the intake waits for
    /// it on shutdown.
    pub fn tasks(&self) -> &TaskTracker {
        &self.inner.tasks
    }

    /// The OpenAPI document, as the router was built.
    pub fn openapi_json(&self) -> &str {
        self.inner.openapi.get().map_or("{}", String::as_str)
    }

    pub fn set_openapi_json(&self, document: String) {
        let _ = self.inner.openapi.set(document);
    }
}

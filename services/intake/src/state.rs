//! What every handler shares.

use std::sync::{Arc, OnceLock};

use shared::callback::AddressPolicy;
use shared::config::Settings;
use shared::connect::Deps;
use shared::event::EventPublisher;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
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
    event_stream_permits: Arc<Semaphore>,
    shutdown: CancellationToken,
}

impl AppState {
    pub fn new(settings: Settings, deps: Deps, shutdown: CancellationToken) -> Self {
        let events = EventPublisher::new(deps.jetstream.clone(), deps.names.clone());
        let callback_policy = settings.callbacks.address_policy();
        let event_stream_permits = Arc::new(Semaphore::new(
            usize::try_from(settings.event_streams.max_streams).unwrap_or(usize::MAX),
        ));
        Self {
            inner: Arc::new(Inner {
                settings,
                deps,
                events,
                openapi: OnceLock::new(),
                tasks: TaskTracker::new(),
                callback_policy,
                event_stream_permits,
                shutdown,
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

    /// The event streams this intake may still open (contract §7a).
    pub fn event_stream_permits(&self) -> &Arc<Semaphore> {
        &self.inner.event_stream_permits
    }

    /// Cancelled when the intake shuts down: long-lived answers end then.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.inner.shutdown
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

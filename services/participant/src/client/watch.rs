//! `participant watch ID`: a progress bar fed by the operation's server-sent events
//! (`GET /api/operations/{id}/events`), then its result. A dropped stream is resumed with
//! `Last-Event-ID`, so no event is missed or shown twice.

use std::time::Duration;

use anyhow::Context as _;
use backon::{BackoffBuilder as _, ExponentialBuilder};
use eventsource_stream::Eventsource as _;
use futures::StreamExt as _;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Method;
use shared::contract::StatusDocument;
use shared::event::Event;

use crate::cli::OperationArgs;

/// Per-item errors printed at the end; the rest are counted.
const ERRORS_SHOWN: usize = 20;

pub async fn run(args: OperationArgs) -> anyhow::Result<()> {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{spinner} {msg:>10} [{bar:40}] {pos}/{len} items ({percent}%) {elapsed}",
        )?
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let mut follower = Follower {
        args,
        bar,
        last_event_id: None,
    };
    let mut reconnects = reconnect_delays();
    loop {
        match follower.follow().await {
            Ok(Some(document)) => {
                follower.bar.finish();
                print_outcome(&document);
                return Ok(());
            }
            Ok(None) => reconnects = reconnect_delays(),
            Err(Followed::Refused(error)) => return Err(error),
            Err(Followed::Lost(error)) => {
                let delay = reconnects
                    .next()
                    .ok_or_else(|| error.context("the event stream could not be resumed"))?;
                follower.bar.set_message("reconnecting");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

fn reconnect_delays() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(5))
        .with_max_times(12)
        .with_jitter()
        .build()
}

/// Why a stream stopped before the operation ended.
enum Followed {
    /// The intake refused the stream (the operation is unknown, say): give up.
    Refused(anyhow::Error),
    /// The connection was lost or the intake was busy: resume.
    Lost(anyhow::Error),
}

struct Follower {
    args: OperationArgs,
    bar: ProgressBar,
    last_event_id: Option<String>,
}

impl Follower {
    /// Reads the stream from after the last event seen; the terminal document once it
    /// arrives, `None` when the stream ended without it after showing progress.
    async fn follow(&mut self) -> Result<Option<StatusDocument>, Followed> {
        let path = format!("/api/operations/{}/events", self.args.id);
        let mut request = super::request(&self.args.client, Method::GET, &path)
            .header(reqwest::header::ACCEPT, "text/event-stream");
        if let Some(id) = &self.last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.map_err(|e| Followed::Lost(e.into()))?;
        let status = response.status();
        if !status.is_success() {
            let error = super::json_or_problem(response)
                .await
                .err()
                .unwrap_or_else(|| anyhow::anyhow!("{status}"));
            return Err(if status.is_server_error() {
                Followed::Lost(error)
            } else {
                Followed::Refused(error)
            });
        }
        let mut events = response.bytes_stream().eventsource();
        let mut showed_any = false;
        while let Some(message) = events.next().await {
            let message = message.map_err(|e| Followed::Lost(anyhow::anyhow!("{e}")))?;
            let event: Event = serde_json::from_str(&message.data)
                .context("reading an event")
                .map_err(Followed::Refused)?;
            self.last_event_id = Some(message.id);
            showed_any = true;
            let document = event.operation;
            self.bar.set_length(document.progress.total);
            self.bar.set_position(document.progress.current);
            self.bar.set_message(document.status.as_str());
            if document.status.is_terminal() {
                return Ok(Some(document));
            }
        }
        if showed_any {
            Ok(None)
        } else {
            Err(Followed::Lost(anyhow::anyhow!(
                "the event stream ended before the operation did"
            )))
        }
    }
}

fn print_outcome(document: &StatusDocument) {
    let status = document.status.as_str();
    if let Some(result) = &document.result {
        println!(
            "{status}: {} processed, {} succeeded, {} failed",
            result.processed, result.succeeded, result.failed
        );
        for error in result.errors.iter().take(ERRORS_SHOWN) {
            println!("  item {}: {}", error.index, error.error);
        }
        if result.errors.len() > ERRORS_SHOWN {
            println!("  ... and {} more", result.errors.len() - ERRORS_SHOWN);
        }
    }
    if let Some(problem) = &document.error {
        println!("{status}: {}", problem.detail);
    }
}

//! `participant events`: print every operation event as it is published, one JSON line
//! each.

use anyhow::Context as _;
use futures::StreamExt;
use shared::names::Names;

use crate::cli::EventsArgs;

pub async fn run(args: EventsArgs) -> anyhow::Result<()> {
    let names = Names::new(args.connection.prefix.clone());
    let subject = match args.tenant {
        Some(tenant) => names.tenant_events(tenant),
        None => names.events_wildcard(),
    };
    let client = shared::connect::nats(&args.connection, "participant-events")
        .await
        .map_err(|e| anyhow::anyhow!(e))
        .context("connecting to NATS")?;
    let mut events = client
        .subscribe(subject.clone())
        .await
        .context("subscribing")?;
    eprintln!("listening on {subject}");
    while let Some(message) = events.next().await {
        println!(
            "{} {}",
            message.subject,
            String::from_utf8_lossy(&message.payload)
        );
    }
    Ok(())
}

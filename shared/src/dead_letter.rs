//! Dead letters: a message that could not be done, copied to
//! `<prefix>.deadletter.<jobs|callbacks>.<operation>` in the dead-letter stream with why
//! and after how many deliveries. The copy's message id makes a repeat a no-op, so giving
//! up is safe to retry.

use async_nats::HeaderMap;
use async_nats::jetstream::{self, message::PublishMessage};

use crate::contract::headers;

/// What a dead letter says about the message it copies.
pub struct Letter<'a> {
    pub subject: String,
    /// Stable per original message, so that a repeated copy is dropped.
    pub id: String,
    pub reason: &'a str,
    pub deliveries: u64,
    pub last_error: Option<&'a str>,
}

/// Copies `message` (its payload and headers, less its own message id) as `letter`, and
/// waits until the dead-letter stream has stored it.
pub async fn publish(
    jetstream: &jetstream::Context,
    message: &jetstream::Message,
    letter: &Letter<'_>,
) -> Result<(), async_nats::Error> {
    let mut letter_headers = HeaderMap::new();
    for (name, values) in message.headers.iter().flat_map(|h| h.iter()) {
        if AsRef::<str>::as_ref(name) != headers::NATS_MSG_ID {
            for value in values {
                letter_headers.append(name.clone(), value.clone());
            }
        }
    }
    letter_headers.insert(headers::NATS_MSG_ID, letter.id.as_str());
    letter_headers.insert(headers::DEAD_LETTER_REASON, letter.reason);
    letter_headers.insert(
        headers::DEAD_LETTER_DELIVERIES,
        letter.deliveries.to_string().as_str(),
    );
    if let Some(error) = letter.last_error {
        letter_headers.insert(headers::DEAD_LETTER_LAST_ERROR, error);
    }
    jetstream
        .send_publish(
            letter.subject.clone(),
            PublishMessage::build()
                .payload(message.payload.clone())
                .headers(letter_headers),
        )
        .await?
        .await?;
    Ok(())
}

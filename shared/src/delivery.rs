//! One delivery of a JetStream message: which message, and how many times it has been
//! delivered. A worker's claim on an operation is fenced by it.

use async_nats::jetstream;

/// One delivery of a message: its stream sequence and its delivery count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub stream_sequence: u64,
    pub attempt: u64,
}

impl Delivery {
    /// The delivery of `message`, from its metadata; `None` for a message without any.
    pub fn of(message: &jetstream::Message) -> Option<Self> {
        let info = message.info().ok()?;
        Some(Self {
            stream_sequence: info.stream_sequence,
            attempt: u64::try_from(info.delivered).unwrap_or(1),
        })
    }

    /// How an operation's record names the delivery that owns it.
    pub fn owner(&self) -> String {
        format!("{}:{}", self.stream_sequence, self.attempt)
    }
}

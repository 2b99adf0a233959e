//! The region's Kinesis stream of domain events: on-demand and KMS-encrypted.

use crate::cfn::kinesis::{Stream, StreamEncryption, StreamModeDetails};
use crate::cfn::{Expr, Handle, ResourceOptions, Template};

/// The Kinesis data stream.
#[derive(Debug, Clone)]
pub struct EventStream {
    stream: Handle<Stream>,
}

impl EventStream {
    /// Adds the stream, retained: it holds published events not yet projected.
    pub fn new(template: &mut Template, id: &str, name: String, retention_hours: u32) -> Self {
        let stream = template.add_with(
            id,
            Stream {
                Name: Some(Expr::Str(name)),
                RetentionPeriodHours: Some(retention_hours),
                StreamModeDetails: Some(StreamModeDetails { StreamMode: "ON_DEMAND".into() }),
                StreamEncryption: Some(StreamEncryption {
                    EncryptionType: "KMS".into(),
                    KeyId: Expr::str("alias/aws/kinesis"),
                }),
                Tags: None,
            },
            ResourceOptions::retained(),
        );
        EventStream { stream }
    }

    /// The stream name.
    pub fn name(&self) -> Expr {
        self.stream.reference()
    }

    /// The stream ARN.
    pub fn arn(&self) -> Expr {
        self.stream.arn()
    }
}

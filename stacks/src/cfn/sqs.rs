//! `AWS::SQS::*` resource types.

use super::{Expr, attributes, resource};

resource!(
    /// `AWS::SQS::Queue`.
    Queue, "AWS::SQS::Queue", {
    /// Queue name.
    pub QueueName: Option<Expr>,
    /// Encrypt at rest with SQS-owned keys.
    pub SqsManagedSseEnabled: Option<bool>,
    /// Seconds a message is kept (60 to 1,209,600).
    pub MessageRetentionPeriod: Option<u32>,
    /// Tags.
    pub Tags: Option<Vec<super::Tag>>,
});

attributes!(Queue {
    /// The queue ARN.
    arn => "Arn",
    /// The queue name.
    queue_name => "QueueName",
});

//! `AWS::Logs::*` resource types.

use super::{Expr, attributes, resource};

resource!(
    /// `AWS::Logs::LogGroup`.
    LogGroup, "AWS::Logs::LogGroup", {
    /// Log group name.
    pub LogGroupName: Option<Expr>,
    /// Days to keep events.
    pub RetentionInDays: Option<u32>,
    /// KMS key ARN encrypting the events (its policy must let `logs.<region>.amazonaws.com` use it).
    pub KmsKeyId: Option<Expr>,
});

attributes!(LogGroup {
    /// The log group ARN (ends with `:*`).
    arn => "Arn",
});

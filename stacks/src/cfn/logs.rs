//! `AWS::Logs::*` resource types.

use super::{Expr, attributes, resource};

resource!(
    /// `AWS::Logs::LogGroup`.
    LogGroup, "AWS::Logs::LogGroup", {
    /// Log group name.
    pub LogGroupName: Option<Expr>,
    /// Days to keep events.
    pub RetentionInDays: Option<u32>,
});

attributes!(LogGroup {
    /// The log group ARN (ends with `:*`).
    arn => "Arn",
});

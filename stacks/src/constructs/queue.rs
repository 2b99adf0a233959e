//! Encrypted SQS queues that keep failure records and conflicts for the longest time SQS allows.

use crate::cfn::sqs::Queue;
use crate::cfn::{Handle, ResourceOptions, ScannerSkip, Template};

/// SQS's maximum retention: 14 days, to leave time for `cargo xtask redrive`.
pub const MAX_RETENTION_SECONDS: u32 = 1_209_600;

/// Security-scanner checks that do not fit these queues, with the reason (listed in README).
pub const SCANNER_SKIPS: &[ScannerSkip] = &[ScannerSkip {
    id: "CKV_AWS_27",
    reason: "Encrypted at rest with SQS-managed keys (SqsManagedSseEnabled); the check only recognises a KMS key (KmsMasterKeyId).",
}];

/// Adds an encrypted queue that outlives the stack (its messages are failure records).
pub fn retained_queue(template: &mut Template, id: &str) -> Handle<Queue> {
    template.add_with(
        id,
        Queue {
            SqsManagedSseEnabled: Some(true),
            MessageRetentionPeriod: Some(MAX_RETENTION_SECONDS),
            ..Queue::default()
        },
        ResourceOptions::retained().with_scanner_skips(SCANNER_SKIPS),
    )
}

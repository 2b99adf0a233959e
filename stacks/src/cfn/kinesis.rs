//! `AWS::Kinesis::*` resource types.

use super::{Expr, attributes, property, resource};

resource!(
    /// `AWS::Kinesis::Stream`.
    Stream, "AWS::Kinesis::Stream", {
    /// Stream name (changing it replaces the stream).
    pub Name: Option<Expr>,
    /// Hours records are kept (24 to 8,760).
    pub RetentionPeriodHours: Option<u32>,
    /// `ON_DEMAND` or `PROVISIONED`.
    pub StreamModeDetails: Option<StreamModeDetails>,
    /// Server-side encryption.
    pub StreamEncryption: Option<StreamEncryption>,
    /// Tags.
    pub Tags: Option<Vec<super::Tag>>,
});

attributes!(Stream {
    /// The stream ARN.
    arn => "Arn",
});

property!(
    /// `StreamModeDetails`.
    StreamModeDetails, {
    /// `ON_DEMAND` or `PROVISIONED`.
    pub StreamMode: String,
});

property!(
    /// `StreamEncryption`.
    StreamEncryption, {
    /// `KMS`.
    pub EncryptionType: String,
    /// Key ID, ARN or alias (`alias/aws/kinesis` for the AWS managed key).
    pub KeyId: Expr,
});

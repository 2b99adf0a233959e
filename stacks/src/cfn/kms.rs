//! `AWS::KMS::*` resource types.

use super::iam::PolicyDocument;
use super::{attributes, resource};

resource!(
    /// `AWS::KMS::Key`: a customer managed key.
    Key, "AWS::KMS::Key", {
    /// What the key protects.
    pub Description: Option<String>,
    /// Rotate the key material every year.
    pub EnableKeyRotation: Option<bool>,
    /// Who may use and manage the key.
    pub KeyPolicy: PolicyDocument,
    /// Days before a key scheduled for deletion is deleted (7 to 30).
    pub PendingWindowInDays: Option<u32>,
    /// Tags.
    pub Tags: Option<Vec<super::Tag>>,
});

attributes!(Key {
    /// The key ARN.
    arn => "Arn",
});

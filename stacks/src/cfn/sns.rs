//! `AWS::SNS::*` resource types.

use super::iam::PolicyDocument;
use super::{Expr, attributes, resource};

resource!(
    /// `AWS::SNS::Topic`.
    Topic, "AWS::SNS::Topic", {
    /// Topic name (changing it replaces the topic).
    pub TopicName: Option<Expr>,
    /// Shown as the sender of email notifications.
    pub DisplayName: Option<String>,
    /// KMS key encrypting messages at rest.
    pub KmsMasterKeyId: Option<Expr>,
    /// Tags.
    pub Tags: Option<Vec<super::Tag>>,
});

attributes!(Topic {
    /// The topic ARN (`Ref` returns it too).
    arn => "TopicArn",
});

resource!(
    /// `AWS::SNS::TopicPolicy`.
    TopicPolicy, "AWS::SNS::TopicPolicy", {
    /// Who may do what on the topics.
    pub PolicyDocument: PolicyDocument,
    /// The topics (ARNs).
    pub Topics: Vec<Expr>,
});

resource!(
    /// `AWS::SNS::Subscription`.
    Subscription, "AWS::SNS::Subscription", {
    /// The topic ARN.
    pub TopicArn: Expr,
    /// `email`, `sqs`, `lambda`, ...
    pub Protocol: String,
    /// The address or ARN.
    pub Endpoint: Option<Expr>,
});

//! `AWS::S3::*` resource types.

use super::iam::PolicyDocument;
use super::{Expr, attributes, property, resource};

resource!(
    /// `AWS::S3::Bucket`.
    Bucket, "AWS::S3::Bucket", {
    /// Bucket name; omitted to let CloudFormation generate one.
    pub BucketName: Option<Expr>,
    /// Default encryption.
    pub BucketEncryption: Option<BucketEncryption>,
    /// Blocks every kind of public access.
    pub PublicAccessBlockConfiguration: Option<PublicAccessBlockConfiguration>,
    /// Versioning.
    pub VersioningConfiguration: Option<VersioningConfiguration>,
    /// Lifecycle rules.
    pub LifecycleConfiguration: Option<LifecycleConfiguration>,
    /// Object ownership (ACLs disabled).
    pub OwnershipControls: Option<OwnershipControls>,
    /// Event notifications.
    pub NotificationConfiguration: Option<NotificationConfiguration>,
    /// Tags.
    pub Tags: Option<Vec<super::Tag>>,
});

attributes!(Bucket {
    /// The bucket ARN.
    arn => "Arn",
});

property!(
    /// `BucketEncryption`.
    BucketEncryption, {
    /// The default encryption rules.
    pub ServerSideEncryptionConfiguration: Vec<ServerSideEncryptionRule>,
});

property!(
    /// `ServerSideEncryptionRule`.
    ServerSideEncryptionRule, {
    /// The default algorithm.
    pub ServerSideEncryptionByDefault: Option<ServerSideEncryptionByDefault>,
    /// Use an S3 bucket key to cut KMS calls.
    pub BucketKeyEnabled: Option<bool>,
});

property!(
    /// `ServerSideEncryptionByDefault`.
    ServerSideEncryptionByDefault, {
    /// `AES256`, `aws:kms` or `aws:kms:dsse`.
    pub SSEAlgorithm: String,
    /// The KMS key, for `aws:kms`.
    pub KMSMasterKeyID: Option<Expr>,
});

property!(
    /// `PublicAccessBlockConfiguration`.
    PublicAccessBlockConfiguration, {
    /// Reject public ACLs.
    pub BlockPublicAcls: Option<bool>,
    /// Reject public bucket policies.
    pub BlockPublicPolicy: Option<bool>,
    /// Ignore public ACLs.
    pub IgnorePublicAcls: Option<bool>,
    /// Restrict access under a public policy.
    pub RestrictPublicBuckets: Option<bool>,
});

impl PublicAccessBlockConfiguration {
    /// Every public-access block switched on.
    pub fn block_all() -> Self {
        PublicAccessBlockConfiguration {
            BlockPublicAcls: Some(true),
            BlockPublicPolicy: Some(true),
            IgnorePublicAcls: Some(true),
            RestrictPublicBuckets: Some(true),
        }
    }
}

property!(
    /// `VersioningConfiguration`.
    VersioningConfiguration, {
    /// `Enabled` or `Suspended`.
    pub Status: String,
});

property!(
    /// `LifecycleConfiguration`.
    LifecycleConfiguration, {
    /// The rules.
    pub Rules: Vec<LifecycleRule>,
});

property!(
    /// `Rule` of a lifecycle configuration.
    LifecycleRule, {
    /// Rule ID.
    pub Id: Option<String>,
    /// `Enabled` or `Disabled`.
    pub Status: String,
    /// Key prefix the rule applies to.
    pub Prefix: Option<String>,
    /// Expire current objects after this many days.
    pub ExpirationInDays: Option<u32>,
    /// Expire noncurrent versions.
    pub NoncurrentVersionExpiration: Option<NoncurrentVersionExpiration>,
    /// Abort incomplete multipart uploads.
    pub AbortIncompleteMultipartUpload: Option<AbortIncompleteMultipartUpload>,
});

property!(
    /// `NoncurrentVersionExpiration`.
    NoncurrentVersionExpiration, {
    /// Days after an object becomes noncurrent.
    pub NoncurrentDays: u32,
});

property!(
    /// `AbortIncompleteMultipartUpload`.
    AbortIncompleteMultipartUpload, {
    /// Days after initiation.
    pub DaysAfterInitiation: u32,
});

property!(
    /// `OwnershipControls`.
    OwnershipControls, {
    /// The rules.
    pub Rules: Vec<OwnershipControlsRule>,
});

property!(
    /// `OwnershipControlsRule`.
    OwnershipControlsRule, {
    /// `BucketOwnerEnforced` disables ACLs.
    pub ObjectOwnership: String,
});

property!(
    /// `NotificationConfiguration`.
    NotificationConfiguration, {
    /// Notifications sent to SNS topics.
    pub TopicConfigurations: Vec<TopicConfiguration>,
});

property!(
    /// `TopicConfiguration` of a bucket's notifications.
    TopicConfiguration, {
    /// The event type, e.g. `s3:ObjectCreated:*`.
    pub Event: String,
    /// The topic ARN.
    pub Topic: Expr,
});

resource!(
    /// `AWS::S3::BucketPolicy`.
    BucketPolicy, "AWS::S3::BucketPolicy", {
    /// The bucket name.
    pub Bucket: Expr,
    /// The policy.
    pub PolicyDocument: PolicyDocument,
});

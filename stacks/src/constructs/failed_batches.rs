//! The region's failed-batches bucket: the on-failure destination of every stream mapping of the
//! region. Lambda writes each batch it gives up on there whole (the invocation record with the
//! records themselves), so a redrive does not depend on the stream still retaining them, and
//! each new object notifies the region's alarm topic.

use super::alerts::AlarmTopic;
use super::function::RustFunction;
use super::secure_bucket::{SecureBucket, SecureBucketProps};
use crate::cfn::s3::{LifecycleRule, NotificationConfiguration, TopicConfiguration};
use crate::cfn::{Expr, Template};

/// Days a failure record is kept: long past the DynamoDB stream's 24 hours and the Kinesis
/// stream's retention, bounded so that the bucket does not grow without end. The alarm topic is
/// told of every new object, so a record is looked at well before it expires.
pub const EXPIRATION_DAYS: u32 = 30;

/// Days a record's version is kept after redrive deleted it (marked it done): a mistaken redrive
/// can be undone by restoring the version within that time.
pub const DONE_VERSION_DAYS: u32 = 7;

/// Options of [`FailedBatches`].
#[derive(Debug, Clone)]
pub struct FailedBatchesProps<'a> {
    /// Physical bucket name (a `Fn::Sub` string), known before the bucket exists so the topic's
    /// policy can name the bucket without depending on it.
    pub bucket_name: String,
    /// The topic every new object is announced on.
    pub topic: &'a AlarmTopic,
}

/// The bucket; a stream mapping can only be built with one (see `Subscription`).
#[derive(Debug, Clone)]
pub struct FailedBatches {
    bucket: SecureBucket,
}

impl FailedBatches {
    /// Adds `<id>` (the bucket: private, encrypted, TLS-only, versioned, records expiring after
    /// [`EXPIRATION_DAYS`]) and `<id>Policy`, and lets S3 announce each new object on the topic.
    pub fn new(template: &mut Template, id: &str, props: FailedBatchesProps<'_>) -> Self {
        let bucket_arn = Expr::sub(format!("arn:${{AWS::Partition}}:s3:::{}", props.bucket_name));
        let depends_on = props.topic.allow_bucket_notifications(template, bucket_arn);
        let expire = LifecycleRule {
            Id: Some("ExpireFailureRecords".into()),
            Status: "Enabled".into(),
            ExpirationInDays: Some(EXPIRATION_DAYS),
            ..LifecycleRule::default()
        };
        let notifications = NotificationConfiguration {
            TopicConfigurations: vec![TopicConfiguration {
                Event: "s3:ObjectCreated:*".into(),
                Topic: props.topic.arn(),
            }],
        };
        let bucket = SecureBucket::new(
            template,
            id,
            SecureBucketProps {
                bucket_name: Some(Expr::sub(props.bucket_name)),
                lifecycle_rules: vec![expire],
                noncurrent_version_days: DONE_VERSION_DAYS,
                notifications: Some(notifications),
                depends_on,
            },
        );
        FailedBatches { bucket }
    }

    /// The bucket ARN (the mappings' on-failure destination).
    pub fn arn(&self) -> Expr {
        self.bucket.arn()
    }

    /// The bucket name.
    pub fn name(&self) -> Expr {
        self.bucket.name()
    }

    /// Lets the mapping of `function` write failure records. The Lambda developer guide
    /// ("Retain discarded batch records for a Kinesis Data Streams event source", and the same
    /// for DynamoDB) asks the execution role for `s3:PutObject` and `s3:ListBucket` on an S3
    /// destination; both are limited to this bucket. The bucket is encrypted with S3-managed
    /// keys, so no KMS permission is needed.
    pub fn grant_delivery(&self, template: &mut Template, function: &RustFunction, sid: &str) {
        function.grant(template, &format!("{sid}Records"), &["s3:PutObject"], vec![self.bucket.objects_arn("")]);
        function.grant(template, &format!("{sid}Listing"), &["s3:ListBucket"], vec![self.bucket.arn()]);
    }
}

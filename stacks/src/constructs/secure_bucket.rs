//! An S3 bucket that is private, encrypted, versioned, TLS-only and retained.

use crate::cfn::iam::{Effect, PolicyDocument, Principal, Statement};
use crate::cfn::s3::{
    Bucket, BucketEncryption, BucketPolicy, LifecycleConfiguration, LifecycleRule, NotificationConfiguration,
    OwnershipControls, OwnershipControlsRule, PublicAccessBlockConfiguration, ServerSideEncryptionByDefault,
    ServerSideEncryptionRule, VersioningConfiguration,
};
use crate::cfn::{Expr, Handle, ResourceOptions, ScannerSkip, Template};
use std::collections::BTreeMap;

/// Security-scanner checks that do not fit these buckets, with the reason (listed in README).
pub const SCANNER_SKIPS: &[ScannerSkip] = &[ScannerSkip {
    id: "CKV_AWS_18",
    reason: "Server access logs would need another bucket, which would need its own; object access is audited with CloudTrail data events, configured per account.",
}];

/// Options of a [`SecureBucket`].
#[derive(Debug, Clone, Default)]
pub struct SecureBucketProps {
    /// Physical name; `None` lets CloudFormation generate a unique one.
    pub bucket_name: Option<Expr>,
    /// Lifecycle rules on top of the defaults (old versions and stale uploads expire).
    pub lifecycle_rules: Vec<LifecycleRule>,
    /// Days before a noncurrent object version is deleted.
    pub noncurrent_version_days: u32,
    /// Event notifications; S3 checks that it may publish to each destination when the
    /// configuration is set, so the policies that allow it go in `depends_on`.
    pub notifications: Option<NotificationConfiguration>,
    /// Logical IDs created before the bucket.
    pub depends_on: Vec<String>,
}

/// The bucket and its TLS-only policy.
#[derive(Debug, Clone)]
pub struct SecureBucket {
    bucket: Handle<Bucket>,
}

impl SecureBucket {
    /// Adds `<id>` (the bucket) and `<id>Policy` (deny any request not over TLS).
    pub fn new(template: &mut Template, id: &str, props: SecureBucketProps) -> Self {
        let mut rules = vec![LifecycleRule {
            Id: Some("ExpireOldVersionsAndUploads".into()),
            Status: "Enabled".into(),
            NoncurrentVersionExpiration: Some(crate::cfn::s3::NoncurrentVersionExpiration {
                NoncurrentDays: props.noncurrent_version_days.max(1),
            }),
            AbortIncompleteMultipartUpload: Some(crate::cfn::s3::AbortIncompleteMultipartUpload {
                DaysAfterInitiation: 7,
            }),
            ..LifecycleRule::default()
        }];
        rules.extend(props.lifecycle_rules);
        let bucket = template.add_with(
            id,
            Bucket {
                BucketName: props.bucket_name,
                BucketEncryption: Some(BucketEncryption {
                    ServerSideEncryptionConfiguration: vec![ServerSideEncryptionRule {
                        ServerSideEncryptionByDefault: Some(ServerSideEncryptionByDefault {
                            SSEAlgorithm: "AES256".into(),
                            KMSMasterKeyID: None,
                        }),
                        BucketKeyEnabled: None,
                    }],
                }),
                PublicAccessBlockConfiguration: Some(PublicAccessBlockConfiguration::block_all()),
                VersioningConfiguration: Some(VersioningConfiguration { Status: "Enabled".into() }),
                LifecycleConfiguration: Some(LifecycleConfiguration { Rules: rules }),
                OwnershipControls: Some(OwnershipControls {
                    Rules: vec![OwnershipControlsRule { ObjectOwnership: "BucketOwnerEnforced".into() }],
                }),
                NotificationConfiguration: props.notifications,
                Tags: None,
            },
            ResourceOptions { depends_on: props.depends_on, ..ResourceOptions::retained() }
                .with_scanner_skips(SCANNER_SKIPS),
        );
        let secure = SecureBucket { bucket };
        let deny_plain_http = Statement {
            Sid: Some("DenyInsecureTransport".into()),
            Effect: Effect::Deny,
            Principal: Some(Principal::everyone()),
            // A Deny: refusing every S3 action over plain HTTP is the point, so the wildcard
            // narrows access rather than granting it.
            Action: vec!["s3:*".into()],
            Resource: vec![secure.arn(), secure.objects_arn("")],
            Condition: Some(BTreeMap::from([(
                "Bool".to_owned(),
                BTreeMap::from([("aws:SecureTransport".to_owned(), Expr::str("false"))]),
            )])),
        };
        template.add(
            format!("{id}Policy"),
            BucketPolicy { Bucket: secure.name(), PolicyDocument: PolicyDocument::new(vec![deny_plain_http]) },
        );
        secure
    }

    /// The bucket's handle.
    pub fn handle(&self) -> &Handle<Bucket> {
        &self.bucket
    }

    /// The bucket name.
    pub fn name(&self) -> Expr {
        self.bucket.reference()
    }

    /// The bucket ARN.
    pub fn arn(&self) -> Expr {
        self.bucket.arn()
    }

    /// ARN pattern of the objects under `prefix`.
    pub fn objects_arn(&self, prefix: &str) -> Expr {
        Expr::sub(format!("${{{}.Arn}}/{prefix}*", self.bucket.id()))
    }
}

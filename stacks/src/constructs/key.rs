//! A customer managed KMS key with yearly rotation. Its policy lets the account's IAM policies
//! administer it through named actions only (no `kms:*`, so nobody uses it to read data through
//! IAM), and grants each AWS service that encrypts with it exactly what AWS documents that service
//! needs, added by `grant_*` as the key is put to use.

use crate::cfn::iam::{PolicyDocument, Principal, Statement};
use crate::cfn::kms::Key;
use crate::cfn::logs::LogGroup;
use crate::cfn::{Expr, Handle, ResourceOptions, Template};
use std::collections::BTreeMap;

/// What the account's IAM policies may do with the key: manage it, never use it. The key policy
/// must keep `kms:PutKeyPolicy` for the account, or KMS refuses it (policy lockout check).
const ADMIN_ACTIONS: &[&str] = &[
    "kms:CancelKeyDeletion",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
];

/// A customer managed key and the handle to amend its policy.
#[derive(Debug, Clone)]
pub struct EncryptionKey {
    key: Handle<Key>,
}

impl EncryptionKey {
    /// Adds the key, retained like every stateful resource: data it encrypted stays readable.
    pub fn new(template: &mut Template, id: &str, description: String) -> Self {
        let administer = Statement {
            Sid: Some("AccountAdministersTheKey".into()),
            Principal: Some(Principal::this_account()),
            ..Statement::allow(ADMIN_ACTIONS, vec![Expr::str("*")])
        };
        let key = template.add_with(
            id,
            Key {
                Description: Some(description),
                EnableKeyRotation: Some(true),
                KeyPolicy: PolicyDocument::new(vec![administer]),
                PendingWindowInDays: Some(30),
                Tags: None,
            },
            ResourceOptions::retained(),
        );
        EncryptionKey { key }
    }

    /// The key ARN.
    pub fn arn(&self) -> Expr {
        self.key.arn()
    }

    /// The key's logical ID.
    pub fn id(&self) -> &str {
        self.key.id()
    }

    fn add_statement(&self, template: &mut Template, statement: Statement) {
        if let Some(key) = template.get_mut(&self.key) {
            key.KeyPolicy.Statement.push(statement);
        }
    }

    /// Lets CloudWatch alarms publish to an SNS topic encrypted with this key. CloudWatch cannot
    /// use the AWS managed `alias/aws/sns` key; the SNS developer guide ("Enable compatibility
    /// between event sources from AWS services and encrypted topics") asks for a customer managed
    /// key whose policy gives the service `kms:GenerateDataKey*` and `kms:Decrypt`. Which alarms
    /// may publish is narrowed by the topic's policy (source account and alarm ARN).
    pub fn grant_alarm_notifications(&self, template: &mut Template) {
        let statement = Statement {
            Sid: Some("CloudWatchAlarmsPublishToEncryptedTopics".into()),
            Principal: Some(Principal::service("cloudwatch.amazonaws.com")),
            ..Statement::allow(&["kms:Decrypt", "kms:GenerateDataKey*"], vec![Expr::str("*")])
        };
        self.add_statement(template, statement);
    }

    /// Lets S3 publish bucket event notifications to an SNS topic encrypted with this key: the
    /// SNS developer guide ("Enable compatibility between event sources from AWS services and
    /// encrypted topics") lists Amazon S3 among the services that need `kms:GenerateDataKey*`
    /// and `kms:Decrypt` on a customer managed key; which buckets may publish is narrowed by
    /// the topic's policy.
    pub fn grant_bucket_notifications(&self, template: &mut Template) {
        let statement = Statement {
            Sid: Some("S3EventNotificationsPublishToEncryptedTopics".into()),
            Principal: Some(Principal::service("s3.amazonaws.com")),
            ..Statement::allow(&["kms:Decrypt", "kms:GenerateDataKey*"], vec![Expr::str("*")])
        };
        self.add_statement(template, statement);
    }

    /// Encrypts every log group of the template with this key and lets CloudWatch Logs in the
    /// stack's region use it for exactly those log groups (CloudWatch Logs user guide, "Encrypt
    /// log data in CloudWatch Logs using AWS KMS": the regional `logs` service principal, its
    /// documented actions, and the `kms:EncryptionContext:aws:logs:arn` condition).
    pub fn encrypt_log_groups(&self, template: &mut Template) {
        let mut arns = Vec::new();
        for (id, group) in template.each_mut::<LogGroup>() {
            group.KmsKeyId = Some(self.arn());
            // A group without a name gets `<stack>-<logical id>-<suffix>` from CloudFormation.
            let name = match &group.LogGroupName {
                Some(Expr::Str(name)) => name.clone(),
                _ => format!("${{AWS::StackName}}-{id}-*"),
            };
            arns.push(Expr::sub(format!(
                "arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{name}"
            )));
        }
        if arns.is_empty() {
            return;
        }
        let logs = || Some(Principal::service(Expr::sub("logs.${AWS::Region}.amazonaws.com")));
        let describe = Statement {
            Sid: Some("CloudWatchLogsDescribesTheKey".into()),
            Principal: logs(),
            ..Statement::allow(&["kms:Describe*"], vec![Expr::str("*")])
        };
        let context = BTreeMap::from([("kms:EncryptionContext:aws:logs:arn".to_owned(), Expr::List(arns))]);
        let encrypt = Statement {
            Sid: Some("CloudWatchLogsEncryptsTheseLogGroups".into()),
            Principal: logs(),
            Condition: Some(BTreeMap::from([("ArnLike".to_owned(), context)])),
            ..Statement::allow(
                &["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
                vec![Expr::str("*")],
            )
        };
        self.add_statement(template, describe);
        self.add_statement(template, encrypt);
    }
}

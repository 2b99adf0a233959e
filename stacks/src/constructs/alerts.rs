//! Where alarms go: an encrypted SNS topic per region with optional email subscriptions (or an
//! existing topic), set as the `AlarmActions` and `OKActions` of every alarm of the stack, so no
//! alarm fires into the void. CloudWatch accepts only a topic in the alarm's own region as an
//! action ("Invalid region ... specified" from PutMetricAlarm otherwise), hence one per region.

use super::key::EncryptionKey;
use crate::cfn::cloudwatch::Alarm;
use crate::cfn::iam::{PolicyDocument, Principal, Statement};
use crate::cfn::sns::{Subscription, Topic, TopicPolicy};
use crate::cfn::{Expr, Handle, Template};
use std::collections::BTreeMap;

/// Options of [`alarm_topic`].
#[derive(Debug, Clone)]
pub struct AlarmTopicProps<'a> {
    /// Topic name, e.g. `<app>-alarms`.
    pub name: String,
    /// The key encrypting the topic; CloudWatch is granted its use.
    pub key: &'a EncryptionKey,
    /// Email addresses subscribed to the topic (each confirms by email).
    pub emails: &'a [String],
    /// Prefix of the names of the alarms that may publish (`<app>-`).
    pub alarm_name_prefix: String,
}

/// The topic a region's alarms and failure notices go to.
#[derive(Debug, Clone)]
pub enum AlarmTopic {
    /// The kit's own topic: its policy and its key are amended as sources are added.
    Owned {
        /// The topic ARN.
        arn: Expr,
        /// The topic's policy.
        policy: Handle<TopicPolicy>,
        /// The key encrypting the topic.
        key: EncryptionKey,
    },
    /// A topic configured in `[alerts] topic_arn`; its owner sets its policy.
    Configured(Expr),
}

impl AlarmTopic {
    /// The topic ARN.
    pub fn arn(&self) -> Expr {
        match self {
            AlarmTopic::Owned { arn, .. } | AlarmTopic::Configured(arn) => arn.clone(),
        }
    }

    /// Lets S3 publish the event notifications of the bucket `bucket_arn` (a literal ARN, so the
    /// topic's policy does not depend on the bucket that depends on it). The S3 user guide
    /// ("Granting permissions to publish event notification messages to a destination") gives
    /// the statement: `s3.amazonaws.com` may `SNS:Publish`, narrowed by `aws:SourceArn` (the
    /// bucket) and `aws:SourceAccount`; the topic's key must let S3 use it (see
    /// [`EncryptionKey::grant_bucket_notifications`]). Returns the logical IDs the bucket must
    /// be created after: S3 checks its destinations when the notification configuration is set.
    /// A configured topic is the owner's to open to S3 (README, "Failed batches").
    pub fn allow_bucket_notifications(&self, template: &mut Template, bucket_arn: Expr) -> Vec<String> {
        let AlarmTopic::Owned { arn, policy, key } = self else { return Vec::new() };
        let publish = Statement {
            Sid: Some("FailedBatchesBucketPublishes".into()),
            Principal: Some(Principal::service("s3.amazonaws.com")),
            Condition: Some(BTreeMap::from([
                (
                    "StringEquals".to_owned(),
                    BTreeMap::from([("aws:SourceAccount".to_owned(), Expr::sub("${AWS::AccountId}"))]),
                ),
                ("ArnLike".to_owned(), BTreeMap::from([("aws:SourceArn".to_owned(), bucket_arn)])),
            ])),
            ..Statement::allow(&["sns:Publish"], vec![arn.clone()])
        };
        if let Some(document) = template.get_mut(policy) {
            document.PolicyDocument.Statement.push(publish);
        }
        key.grant_bucket_notifications(template);
        // The topic, and through it the key, are referenced by the notification already.
        vec![policy.id().to_owned()]
    }
}

/// Adds `<id>` (the topic, encrypted with the key), `<id>Policy` (only this account's alarms
/// named `<prefix>*` may publish) and one `<id>Email<hash>` subscription per address.
pub fn alarm_topic(template: &mut Template, id: &str, props: AlarmTopicProps<'_>) -> AlarmTopic {
    let topic = template.add(
        id,
        Topic {
            TopicName: Some(Expr::Str(props.name.clone())),
            DisplayName: Some(props.name),
            KmsMasterKeyId: Some(props.key.arn()),
            Tags: None,
        },
    );
    props.key.grant_alarm_notifications(template);
    // The AWS knowledge center ("Why didn't I receive an SNS notification for my CloudWatch alarm
    // trigger?") gives this statement: `cloudwatch.amazonaws.com` may `sns:Publish`, narrowed by
    // `aws:SourceAccount` and an `aws:SourceArn` pattern of the alarms.
    let alarms = format!(
        "arn:${{AWS::Partition}}:cloudwatch:${{AWS::Region}}:${{AWS::AccountId}}:alarm:{}*",
        props.alarm_name_prefix
    );
    let publish = Statement {
        Sid: Some("ThisAccountsAlarmsPublish".into()),
        Principal: Some(Principal::service("cloudwatch.amazonaws.com")),
        Condition: Some(BTreeMap::from([
            (
                "StringEquals".to_owned(),
                BTreeMap::from([("aws:SourceAccount".to_owned(), Expr::sub("${AWS::AccountId}"))]),
            ),
            ("ArnLike".to_owned(), BTreeMap::from([("aws:SourceArn".to_owned(), Expr::sub(alarms))])),
        ])),
        ..Statement::allow(&["sns:Publish"], vec![topic.reference()])
    };
    let policy = template.add(
        format!("{id}Policy"),
        TopicPolicy { PolicyDocument: PolicyDocument::new(vec![publish]), Topics: vec![topic.reference()] },
    );
    for email in props.emails {
        template.add(
            format!("{id}Email{:08X}", fnv1a(&email.to_ascii_lowercase())),
            Subscription {
                TopicArn: topic.reference(),
                Protocol: "email".into(),
                Endpoint: Some(Expr::Str(email.clone())),
            },
        );
    }
    AlarmTopic::Owned { arn: topic.reference(), policy, key: props.key.clone() }
}

/// Sets `topic_arn` as the `AlarmActions` and `OKActions` of every alarm in the template: a
/// breach and its recovery both reach whoever subscribes.
pub fn notify(template: &mut Template, topic_arn: &Expr) {
    for (_, alarm) in template.each_mut::<Alarm>() {
        alarm.AlarmActions = Some(vec![topic_arn.clone()]);
        alarm.OKActions = Some(vec![topic_arn.clone()]);
    }
}

/// 32-bit FNV-1a: a stable logical-ID suffix per address, so adding or removing one address
/// never renames (and so replaces, re-asking confirmation of) the others.
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5_u32, |hash, byte| (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193))
}

#[cfg(test)]
mod tests {
    #[test]
    fn fnv1a_matches_the_reference_values() {
        assert_eq!(super::fnv1a(""), 0x811c_9dc5);
        assert_eq!(super::fnv1a("a"), 0xe40c_292c);
        assert_eq!(super::fnv1a("foobar"), 0xbf9c_f968);
    }
}

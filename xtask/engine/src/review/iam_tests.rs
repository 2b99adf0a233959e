//! Tests of IAM broadening on statements shaped like the kit's function roles.

use super::*;

fn role(actions: &[&str], extra: Option<Value>) -> Value {
    let mut statements = vec![json!({
        "Sid": "PublishEvents",
        "Effect": "Allow",
        "Action": actions,
        "Resource": [{"Fn::GetAtt": ["EventStream", "Arn"]}]
    })];
    statements.extend(extra);
    json!({
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com"]}, "Action": ["sts:AssumeRole"]}
            ]},
            "Policies": [{"PolicyName": "access", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]
        }
    })
}

#[test]
fn an_action_added_to_a_role_policy_broadens_and_a_removed_one_does_not() {
    let before = role(&["kinesis:PutRecord", "kinesis:PutRecords"], None);
    let after = role(&["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DeleteStream"], None);
    let added = broadening("AWS::IAM::Role", Some(&before), Some(&after));
    assert_eq!(added, ["permissions: allows kinesis:DeleteStream on GetAtt EventStream.Arn"]);
    let removed = broadening("AWS::IAM::Role", Some(&after), Some(&before));
    assert!(removed.is_empty(), "{removed:?}");
}

#[test]
fn a_new_allow_statement_and_a_wider_resource_broaden_but_a_covered_one_does_not() {
    let before = role(&["kinesis:*"], None);
    let narrower = role(&["kinesis:PutRecord"], None);
    assert!(broadening("AWS::IAM::Role", Some(&before), Some(&narrower)).is_empty(), "narrowing is not broadening");
    let extra = json!({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"});
    let after = role(&["kinesis:*"], Some(extra));
    assert_eq!(broadening("AWS::IAM::Role", Some(&before), Some(&after)), ["permissions: allows sqs:SendMessage on *"]);
}

#[test]
fn a_removed_condition_or_deny_broadens_an_added_condition_does_not() {
    let policy = |statement: Value| json!({"Type": "AWS::S3::BucketPolicy", "Properties": {"PolicyDocument": {"Statement": [statement]}}});
    let deny = policy(json!({"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": ["s3:*"], "Resource": ["b"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}));
    let removed = broadening("AWS::S3::BucketPolicy", Some(&deny), None);
    assert_eq!(removed, ["policy: no longer denies * s3:* on b"]);
    let conditional =
        policy(json!({"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "s3:PutObject",
        "Resource": "b", "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}));
    let open = policy(
        json!({"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "s3:PutObject", "Resource": "b"}),
    );
    let lines = broadening("AWS::S3::BucketPolicy", Some(&conditional), Some(&open));
    assert_eq!(lines, ["policy: allows Service:logs.amazonaws.com s3:PutObject on b (condition removed)"]);
    assert!(broadening("AWS::S3::BucketPolicy", Some(&open), Some(&conditional)).is_empty());
}

#[test]
fn a_new_role_or_permission_is_broadening_like_the_cdk_says() {
    let lines = broadening("AWS::IAM::Role", None, Some(&role(&["kinesis:PutRecord"], None)));
    assert_eq!(lines.len(), 1);
    assert!(
        lines[0].starts_with("new IAM grant; trust policy: allows Service:lambda.amazonaws.com sts:AssumeRole"),
        "{lines:?}"
    );
    let permission = json!({"Type": "AWS::Lambda::Permission", "Properties": {
        "Action": "lambda:InvokeFunction", "FunctionName": {"Ref": "ApiHandler"}, "Principal": "apigateway.amazonaws.com"}});
    let lines = broadening("AWS::Lambda::Permission", None, Some(&permission));
    assert!(
        lines[0].contains("allows Service:apigateway.amazonaws.com lambda:InvokeFunction on Ref ApiHandler"),
        "{lines:?}"
    );
}

#[test]
fn deny_only_policies_removed_roles_and_attachments_are_judged_by_what_they_grant() {
    let deny = json!({"Type": "AWS::S3::BucketPolicy", "Properties": {"PolicyDocument": {"Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "b"}]}}});
    assert!(broadening("AWS::S3::BucketPolicy", None, Some(&deny)).is_empty(), "a new deny narrows");
    assert!(broadening("AWS::IAM::Role", Some(&role(&["a:B"], None)), None).is_empty(), "a removed role narrows");
    let mut attached = role(&["a:B"], None);
    attached["Properties"]["ManagedPolicyArns"] = json!(["arn:aws:iam::aws:policy/AdministratorAccess"]);
    let lines = broadening("AWS::IAM::Role", Some(&role(&["a:B"], None)), Some(&attached));
    assert_eq!(lines, ["ManagedPolicyArns adds arn:aws:iam::aws:policy/AdministratorAccess"]);
}

#[test]
fn wildcards_match_like_iam() {
    assert!(wildcard("s3:get*", "s3:getobject"));
    assert!(wildcard("*", "anything"));
    assert!(wildcard("arn:aws:s3:::b/*", "arn:aws:s3:::b/key"));
    assert!(!wildcard("s3:get*", "s3:putobject"));
    assert!(wildcard("s3:?et*", "s3:getobject"));
}

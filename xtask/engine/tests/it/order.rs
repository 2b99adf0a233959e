//! Order between stacks is checked, not assumed: a region stack is not deployed while the home
//! region's data stack is behind the config; every call on the (predictably named) assets bucket
//! names the account that must own it.

use crate::support::{all, artifacts, config, deploy_all, never, plan, session};
use aws_sdk_s3::Client as S3;
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::operation::put_object::PutObjectOutput;
use aws_sdk_s3::types::error::NotFound;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use engine::deploy::{StackOutcome, deploy};
use engine::params::{AssetsBucket, upload_artifacts, upload_template};
use engine::plan::{DeployOptions, RegionSelection};
use engine::testing::emulator;
use stacks::StackPart;

#[tokio::test]
async fn a_region_stack_is_not_deployed_while_the_home_data_stack_is_behind_the_config() {
    let emulator = emulator();
    let app = "order1";
    let regions = ["us-east-1", "eu-west-1"];
    let zips = artifacts(app);
    deploy_all(&session(&emulator, config(app, &regions, 24, &["task-view"])).await, &zips, &never()).await;
    // A new read model: its table comes with the home region's data stack.
    let ahead = session(&emulator, config(app, &regions, 24, &["task-view", "summary"])).await;
    let only_eu = RegionSelection { regions: vec!["eu-west-1".into()], all: false };
    let report =
        deploy(&ahead, &plan(&ahead, &only_eu, &DeployOptions::default()), &zips, &never()).await.expect("ran");
    let region = report.stacks.iter().find(|r| r.stack == format!("{app}-region-eu-west-1")).expect("reported");
    let StackOutcome::Failed { reason } = &region.outcome else { panic!("{region:#?}") };
    assert!(reason.contains(&format!("{app}-views-summary not in eu-west-1")), "{reason}");
    assert!(reason.contains("deploy the home region first (`cargo xtask deploy --region us-east-1`)"), "{reason}");
    let name = ahead.stack(StackPart::Region, "eu-west-1").expect("stack").name.clone();
    let deployed = engine::stack::deployed(&ahead.aws.cloudformation("eu-west-1"), &name).await.expect("deployed");
    assert!(deployed.template.expect("template")["Resources"]["ProjectorSummary"].is_null(), "not deployed");

    // Once the home region is deployed, the region stack goes through.
    let report = deploy(&ahead, &plan(&ahead, &all(), &DeployOptions::default()), &zips, &never()).await.expect("ran");
    assert!(report.unsuccessful().is_empty(), "{:#?}", report.stacks);
}

#[tokio::test]
async fn every_call_on_the_assets_bucket_names_its_expected_owner() {
    let owner = "123456789012";
    let head = mock!(S3::head_object)
        .match_requests(move |r| r.expected_bucket_owner() == Some(owner))
        .then_error(|| HeadObjectError::NotFound(NotFound::builder().build()));
    let put = mock!(S3::put_object)
        .match_requests(move |r| r.expected_bucket_owner() == Some(owner))
        .then_output(|| PutObjectOutput::builder().build());
    let s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&head, &put]);
    let bucket = AssetsBucket::new("shop", owner, "eu-west-1");
    assert_eq!(bucket.name, "shop-assets-123456789012-eu-west-1");
    let zips = artifacts("owner1");
    let uploaded = upload_artifacts(&s3, &bucket, &zips).await.expect("uploaded");
    assert_eq!(uploaded, zips.len());
    upload_template(&s3, &bucket, "shop-region-eu-west-1", "{}").await.expect("template uploaded");
    assert_eq!(head.num_calls(), zips.len());
    assert_eq!(put.num_calls(), zips.len() + 1, "every put named the owner");
}

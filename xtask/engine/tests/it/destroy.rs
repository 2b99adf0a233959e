//! Destroying stacks against the local emulator, asserted through CloudFormation's own answers.

use crate::support::{artifacts, deploy_all, never, session};
use engine::destroy::destroy;
use engine::session::Session;
use engine::stack;
use engine::testing::emulator;
use stacks::{AppConfig, StackPart};

async fn deployed(app: &str) -> (engine::testing::TestEmulator, Session) {
    let emulator = emulator();
    let text = format!(
        "app = \"{app}\"\nhome = \"eu-west-1\"\n[[region]]\nname = \"eu-west-1\"\n[[region]]\nname = \"us-east-1\"\n"
    );
    let config = AppConfig::from_toml("test.toml", &text).expect("valid test config");
    let session = session(&emulator, config).await;
    deploy_all(&session, &artifacts(app), &never()).await;
    (emulator, session)
}

async fn exists(session: &Session, part: StackPart, region: &str) -> bool {
    let name = &session.stack(part, region).expect("synthesized").name;
    stack::status(&session.aws.cloudformation(region), name).await.expect("status").is_some()
}

#[tokio::test]
async fn destroying_a_region_deletes_its_region_stack_and_nothing_else() {
    let (_emulator, session) = deployed("destroy1").await;
    destroy(&session, "us-east-1", None).await.expect("destroy");
    assert!(!exists(&session, StackPart::Region, "us-east-1").await, "region stack deleted");
    assert!(exists(&session, StackPart::Bootstrap, "us-east-1").await, "assets bucket kept");
    assert!(exists(&session, StackPart::Region, "eu-west-1").await, "other regions untouched");
    assert!(exists(&session, StackPart::Data, "eu-west-1").await, "data stack kept without --force-data");
}

#[tokio::test]
async fn the_data_stack_goes_only_with_its_name_typed_back_after_every_other_region() {
    let (_emulator, session) = deployed("destroy2").await;
    let data = session.stack(StackPart::Data, "eu-west-1").expect("data stack").name.clone();

    let wrong = destroy(&session, "eu-west-1", Some("destroy2-data")).await.expect_err("wrong name refused");
    assert!(wrong.to_string().contains("does not match"), "{wrong}");
    let early = destroy(&session, "eu-west-1", Some(&data)).await.expect_err("refused while us-east-1 runs");
    assert!(early.to_string().contains("destroy2-region-us-east-1"), "{early}");
    assert!(exists(&session, StackPart::Region, "eu-west-1").await, "a refused destroy deletes nothing");

    let away = destroy(&session, "us-east-1", Some(&data)).await.expect_err("data stack is home only");
    assert!(away.to_string().contains("home region eu-west-1"), "{away}");
    assert!(exists(&session, StackPart::Region, "us-east-1").await, "a refused destroy deletes nothing");

    destroy(&session, "us-east-1", None).await.expect("destroy us-east-1");
    destroy(&session, "eu-west-1", Some(&data)).await.expect("destroy home with data");
    assert!(!exists(&session, StackPart::Region, "eu-west-1").await);
    assert!(!exists(&session, StackPart::Data, "eu-west-1").await, "data stack deleted");
    let table = session.aws.dynamodb("eu-west-1").describe_table().table_name("destroy2-events").send().await;
    assert!(table.is_ok(), "the event log is retained");
}

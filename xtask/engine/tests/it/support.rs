//! Shared set-up of the integration tests: small configs, empty function archives, sessions on
//! the emulator, a whole-plan deployment, and the check that nothing was left behind.

use engine::approval::{Approval, RequireApproval};
use engine::deploy::{DeployReport, StackOutcome, deploy};
use engine::params::Artifact;
use engine::plan::{DeployOptions, Plan, RegionSelection};
use engine::session::Session;
use engine::testing::{TestEmulator, aws};
use stacks::AppConfig;

/// A config for `app` in `regions` (the first is home), no DNS, an audit projection and a
/// read-model projection per name in `views`.
pub fn config(app: &str, regions: &[&str], retention_hours: u32, views: &[&str]) -> AppConfig {
    let mut text = format!("app = \"{app}\"\nhome = \"{}\"\n", regions[0]);
    for region in regions {
        text.push_str(&format!("\n[[region]]\nname = \"{region}\"\n"));
    }
    text.push_str(&format!("\n[stream]\nretention_hours = {retention_hours}\n"));
    text.push_str("\n[[projection]]\nname = \"audit\"\nkind = \"s3-audit\"\n");
    for view in views {
        text.push_str(&format!("\n[[projection]]\nname = \"{view}\"\nkind = \"read-model\"\n"));
    }
    AppConfig::from_toml("test.toml", &text).expect("valid test config")
}

/// Function zips for the tests: empty archives (moto stores code, never runs it).
pub fn artifacts(app: &str) -> Vec<Artifact> {
    let dir = std::env::temp_dir().join(format!("kit-test-zips-{app}-{}", std::process::id()));
    engine::artifacts::empty_archives(&dir, app).expect("write test zips")
}

/// A session on the emulator.
pub async fn session(emulator: &TestEmulator, config: AppConfig) -> Session {
    Session::new(aws(emulator).await, config).await.expect("session")
}

/// Approve everything without asking.
pub fn never() -> Approval {
    Approval::new(RequireApproval::Never, false)
}

/// Every configured region.
pub fn all() -> RegionSelection {
    RegionSelection { regions: Vec::new(), all: true }
}

/// The plan for `selection` with `options`.
pub fn plan(session: &Session, selection: &RegionSelection, options: &DeployOptions) -> Plan {
    Plan::new(&session.config, &session.assembly, selection, options).expect("valid plan")
}

/// Deploys every region with default options and `approval`.
pub async fn deploy_all(session: &Session, artifacts: &[Artifact], approval: &Approval) -> DeployReport {
    let plan = plan(session, &all(), &DeployOptions::default());
    deploy(session, &plan, artifacts, approval).await.expect("deploy")
}

/// `(stack, outcome label)` per stack, for assertion messages.
pub fn results(report: &DeployReport) -> Vec<(String, String)> {
    report.stacks.iter().map(|r| (r.stack.clone(), format!("{:?}", r.outcome))).collect()
}

/// Whether every stack ended with `outcome`.
pub fn all_are(report: &DeployReport, outcome: &StackOutcome) -> bool {
    report.stacks.iter().all(|r| r.outcome == *outcome)
}

/// Every stack of the session: no change set left, and none left in review.
pub async fn assert_no_stray_change_sets(session: &Session) {
    for stack in &session.assembly.stacks {
        let cfn = session.aws.cloudformation(&stack.region);
        if let Ok(listed) = cfn.list_change_sets().stack_name(&stack.name).send().await {
            // The emulator lists every change set of the region; only this stack's count here.
            let own = listed.summaries().iter().filter(|s| s.stack_name() == Some(stack.name.as_str()));
            let names: Vec<_> = own.filter_map(|s| s.change_set_name()).collect();
            assert!(names.is_empty(), "{} still has change sets {names:?}", stack.name);
        }
        let status = engine::stack::status(&cfn, &stack.name).await.expect("status");
        assert_ne!(status.map(|s| s.as_str().to_owned()).as_deref(), Some("REVIEW_IN_PROGRESS"), "{}", stack.name);
    }
    assert!(session.guard.pending().is_empty(), "the guard still holds {:?}", session.guard.pending());
}

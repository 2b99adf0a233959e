//! One snapshot per stack of the example config. A template change shows up here as a diff to
//! accept deliberately (`cargo insta review`); logical IDs are a contract, renaming one replaces
//! the resource.

use crate::support::{EXAMPLE, assembly};

#[test]
fn every_stack_of_the_example_config_matches_its_snapshot() {
    let assembly = assembly(EXAMPLE);
    assert_eq!(assembly.stacks.len(), 8, "3 bootstrap + 1 data + 3 region stacks + 1 dns");
    for stack in &assembly.stacks {
        insta::assert_snapshot!(stack.name.clone(), stack.body);
    }
}

#[test]
fn manifest_of_the_example_config_matches_its_snapshot() {
    let manifest = assembly(EXAMPLE).manifest("json");
    insta::assert_json_snapshot!("manifest", manifest);
}

//! Adding and removing regions (`cargo xtask region add|remove`): `regions.toml` edited in place
//! ([`edit`]), the ordered plan from the config before and after ([`plan`]), the data stack's
//! replicas step by step ([`layout`]), where a change stands from what is deployed ([`progress`]),
//! the drain of a removed region ([`drain`]), and the plan carried out through the deploy engine
//! ([`apply`]).

pub mod apply;
pub mod drain;
pub mod edit;
pub mod layout;
pub mod plan;
pub mod progress;

pub use apply::{ApplyOptions, apply};
pub use plan::{Direction, RegionPlan, Step};

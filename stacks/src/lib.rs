//! `stacks`: regions.toml → per-region CloudFormation templates, as a pure library.
//!
//! [`config`] validates the file, [`cfn`] is the typed CloudFormation model (L1), [`constructs`]
//! compose it into the kit's building blocks (L2) and [`app`] assembles every stack of every
//! region. Nothing here reads the clock, the environment or the disk: the same configuration
//! always gives byte-identical templates.

pub mod app;
pub mod assembly;
pub mod cfn;
pub mod config;
pub mod constructs;

pub use app::{SynthError, synthesize};
pub use assembly::{Assembly, Stack, StackPart};
pub use config::AppConfig;

//! The CloudFormation engine under `cargo xtask`: AWS access that never sends credentials to a
//! loopback endpoint ([`aws`]), plans built and validated before any call ([`plan`]), stack
//! states, change sets and their execution ([`stack`]), following operations ([`events`],
//! [`poll`]), the review of every change ([`review`]), the approval gate ([`approval`]),
//! deployments in waves with rollback triggers ([`deploy`], [`rollback`]), recovery of failed
//! creations ([`recovery`]), nothing left behind ([`guard`], [`interrupt`]), reviews without
//! executing ([`diff`]), what the local emulator lacks ([`emulation`]), readings of a deployed
//! region ([`observe`]), and adding or removing regions ([`region`]). The CLI is a thin
//! layer over it; other tools (status, drills, region changes) build on the same pieces.

pub mod approval;
pub mod artifacts;
pub mod aws;
pub mod data_stack;
pub mod deploy;
pub mod destroy;
pub mod diff;
pub mod dns;
pub mod drill;
pub mod emulation;
pub mod emulator;
pub mod events;
pub mod guard;
pub mod interrupt;
pub mod observe;
pub mod outputs;
pub mod params;
pub mod plan;
pub mod poll;
pub mod recovery;
pub mod redrive;
pub mod region;
pub mod replay;
pub mod review;
pub mod rollback;
pub mod route53;
pub mod session;
pub mod stack;
pub mod status;
pub mod takeover;
#[cfg(feature = "testing")]
pub mod testing;

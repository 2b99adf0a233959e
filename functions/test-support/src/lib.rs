//! Test harness of the functions: the moto emulator on loopback ([`emulator`]), SDK clients
//! with dummy credentials and resources shaped like the stacks' contract ([`aws`]), real-shaped
//! Lambda events ([`fixtures`]) and readers that turn the emulator's streams into the events an
//! event source mapping would deliver ([`streams`]).

pub mod aws;
pub mod emulator;
pub mod fixtures;
pub mod offline;
pub mod streams;

pub use emulator::endpoint;

//! Shared domain of the functions (no Lambda runtime here): the event-log item and the domain
//! event envelope with their conversions, origin tagging, the `Task` aggregate, command handling
//! with optimistic concurrency and idempotent command ids, the once-per-consumer guard, the
//! read model, and the retryable / non-retryable error split.

pub use contract;

pub mod aggregate;
pub mod cancellation;
pub mod commands;
pub mod envelope;
pub mod error;
pub mod holds;
pub mod idempotency;
pub mod item;
pub mod origin;
pub mod origin_index;
pub mod runtime;
pub mod store;
pub mod stream_image;
pub mod task;
pub mod view;

pub use aggregate::{Aggregate, EventBody, Folded, fold};
pub use commands::{CommandOutcome, CommandRequest, CommandService, Target};
pub use envelope::{DomainEvent, DomainEventRef};
pub use error::DomainError;
pub use item::EventItem;
pub use origin::Origin;
pub use task::{Task, TaskCommand, TaskEvent, Title};
pub use view::{StoredView, TaskView, ViewStore};

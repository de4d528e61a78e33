//! After a commit: what a change tells whom. A command returns its `DomainEvent`s in a
//! `Committed` (commit.rs); the `Dispatcher` invalidates caches and files notifications
//! (notifications.rs) to each person's inbox (inbox.rs), which the delivery worker sends as
//! WeChat subscription messages (delivery.rs), and tells live subscribers on every instance
//! over the bus (bus.rs). Imports run one way: event ← notifications ← inbox ← commit.
pub mod bus;
mod commit;
pub mod delivery;
mod event;
pub mod inbox;
pub mod notifications;

pub use bus::EventBus;
pub use commit::{Committed, Dispatcher, Events};
pub use event::{Application, DomainEvent};

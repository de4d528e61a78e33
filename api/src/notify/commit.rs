//! Domain events: what a committed command changed, as the rest of the system needs to hear it.
//!
//! A command collects the events it causes while its transaction runs and returns them with
//! its result as a `Committed`. Only the `Dispatcher` opens a `Committed`, so no caller can
//! use the result and forget its effects: the dispatcher turns the events into cache
//! invalidation and live notifications once the change is committed.
use std::sync::Arc;

use sea_orm::{
    DatabaseConnection, DatabaseTransaction,
    sea_query::{InsertStatement, UpdateStatement},
};
use tokio::sync::Notify;

use super::{
    bus::{Broadcast, EventBus},
    event::DomainEvent,
    inbox,
    notifications::{self, Notification},
};
use crate::{
    error::AppResult,
    infra::{cache::Stale, db},
};

/// Events a command has caused so far; its writes that others must hear about push here.
#[derive(Debug, Default)]
pub struct Events(Vec<DomainEvent>);

impl Events {
    pub fn push(&mut self, event: DomainEvent) {
        self.0.push(event);
    }

    /// Keeps the events of a command run as part of this one; returns its result.
    pub fn absorb<T>(&mut self, committed: Committed<T>) -> T {
        self.0.extend(committed.events);
        committed.value
    }

    /// The result of a command whose transaction committed with these events.
    pub fn committed<T>(self, value: T) -> Committed<T> {
        let notifications = self.0.iter().flat_map(notifications::for_event).collect();
        Committed {
            value,
            events: self.0,
            notifications,
        }
    }

    /// Commits `txn` together with what these events tell people (their inbox rows), so a
    /// change is never stored without its news, nor news without its change.
    pub async fn commit<T>(self, txn: DatabaseTransaction, value: T) -> AppResult<Committed<T>> {
        let committed = self.committed(value);
        inbox::file(&txn, &committed.notifications).await?;
        txn.commit().await?;
        Ok(committed)
    }

    /// Stores `writes` with these events' inbox rows as one statement, if every guard is met
    /// (`db::write_at_once`). `None` when it did not (SQLite, or a guard unmet): nothing was
    /// written, and the caller takes its transaction path.
    pub async fn commit_at_once<T>(
        self,
        db: &DatabaseConnection,
        mut writes: Vec<InsertStatement>,
        guards: Vec<UpdateStatement>,
        value: T,
    ) -> AppResult<Option<Committed<T>>> {
        let committed = self.committed(value);
        writes.extend(inbox::filing(
            db.get_database_backend(),
            &committed.notifications,
        ));
        Ok(db::write_at_once(db, writes, guards)
            .await?
            .then_some(committed))
    }
}

/// A command's result together with the events its committed change caused and the
/// notifications they make.
#[must_use = "hand it to the Dispatcher: caches and subscribers must hear of the change"]
#[derive(Debug)]
pub struct Committed<T> {
    value: T,
    events: Vec<DomainEvent>,
    notifications: Vec<Notification>,
}

impl<T> Committed<T> {
    pub fn new(value: T, event: DomainEvent) -> Self {
        let mut events = Events::default();
        events.push(event);
        events.committed(value)
    }

    /// What the command answers with.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The same change, answered with something else.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Committed<U> {
        Committed {
            value: f(self.value),
            events: self.events,
            notifications: self.notifications,
        }
    }
}

/// Turns committed events into their effects on every instance.
#[derive(Clone)]
pub struct Dispatcher {
    bus: EventBus,
    /// Told when a commit left a fan-out (`inbox::fan_out`), which this instance then files.
    fanouts: Arc<Notify>,
}

impl Dispatcher {
    pub fn new(bus: EventBus) -> Self {
        Self {
            bus,
            fanouts: Arc::default(),
        }
    }

    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    /// Wakes when a settled change left a fan-out to file.
    pub fn fanouts_left(&self) -> &Notify {
        &self.fanouts
    }

    /// Wakes the filing of the change's fan-outs, invalidates what the events made stale, tells
    /// subscribers, and hands back the result.
    /// Never fails: the change is committed, and a missed effect only costs freshness.
    pub async fn settle<T>(&self, committed: Committed<T>) -> T {
        let Committed {
            value,
            events,
            notifications,
        } = committed;
        if notifications.iter().any(inbox::fans_out) {
            self.fanouts.notify_one();
        }
        let mut stale: Vec<Stale> = Vec::new();
        for read in events.iter().filter_map(DomainEvent::stale_read) {
            if !stale.contains(&read) {
                stale.push(read);
            }
        }
        let mut messages: Vec<Broadcast> = notifications
            .into_iter()
            .map(Broadcast::Notification)
            .collect();
        if events
            .iter()
            .any(|event| matches!(event, DomainEvent::CategoryChanged { .. }))
        {
            messages.push(Broadcast::CategoriesChanged);
        }
        if !stale.is_empty() || !messages.is_empty() {
            self.bus.announce(&stale, messages).await;
        }
        value
    }
}

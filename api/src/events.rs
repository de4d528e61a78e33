//! Domain events: what a committed command changed, as the rest of the system needs to hear it.
//!
//! A command collects the events it causes while its transaction runs and returns them with
//! its result as a `Committed`. Only the `Dispatcher` opens a `Committed`, so no caller can
//! use the result and forget its effects: the dispatcher turns the events into cache
//! invalidation and live notifications once the change is committed.
use entity::{enums::OrderStatus, order, redemption, wish};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use sea_orm::DatabaseTransaction;

use crate::{
    error::AppResult,
    inbox,
    infra::{
        cache::{self, Namespace},
        event_bus::EventBus,
        shared_store::SharedStore,
    },
    notifications::{self, Notification},
    orders::workflow::Step,
};

#[derive(Debug, Clone)]
pub enum DomainEvent {
    /// An order was placed (`step` is `None`) or took a workflow step.
    OrderStepped {
        order: Box<order::Model>,
        step: Option<Step>,
    },
    /// A role was granted to or revoked from the user.
    RolesChanged {
        user_id: Uuid,
    },
    /// What others see of the user (name, phone) may have changed.
    ProfileChanged {
        user_id: Uuid,
    },
    /// Anything a merchant listing shows: status, badges, offers, stock.
    MerchantChanged {
        merchant_id: Uuid,
    },
    /// A community's settings (its points rate, …).
    CommunityChanged {
        community_id: Uuid,
    },
    /// A service category's name, response time or availability.
    CategoryChanged {
        category_id: Uuid,
    },
    RedemptionVerified(redemption::Model),
    /// The alert sweep changed an order's level (the order as it is now).
    AlertChanged {
        order: Box<order::Model>,
        /// The street of the order's community, told at RED.
        street_id: Option<Uuid>,
    },
    /// A micro-wish was posted or took a step (the wish as it is now).
    WishChanged {
        wish: Box<wish::Model>,
    },
    /// STAFF decided on someone's application (Party-member registration, merchant).
    ApplicationReviewed {
        applicant_id: Uuid,
        application: Application,
        approved: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Application {
    PartyMember,
    Merchant,
}

impl DomainEvent {
    /// The cached reads this event makes stale.
    pub fn stale_reads(&self) -> &'static [Namespace] {
        match self {
            // The pool lists OPEN orders: only the steps that enter or leave OPEN touch it.
            Self::OrderStepped {
                step: Some(Step::Dispatch | Step::Publish | Step::Take | Step::Cancel),
                ..
            } => &[Namespace::OrderPool],
            Self::AlertChanged { order, .. } if order.status == OrderStatus::Open => {
                &[Namespace::OrderPool]
            }
            // Each instance's catalog hears `CategoryChanged` on the bus instead.
            Self::OrderStepped { .. }
            | Self::AlertChanged { .. }
            | Self::RedemptionVerified(_)
            | Self::ApplicationReviewed { .. }
            | Self::WishChanged { .. }
            | Self::CategoryChanged { .. } => &[],
            Self::RolesChanged { .. } => &[Namespace::Roles],
            // The pool shows its orders' requesters.
            Self::ProfileChanged { .. } => &[Namespace::OrderPool],
            Self::MerchantChanged { .. } => &[Namespace::Merchants],
            Self::CommunityChanged { .. } => &[Namespace::Communities],
        }
    }
}

/// What instances tell each other over the event bus.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Broadcast {
    /// For the people in its audience.
    Notification(Notification),
    /// Service categories changed: forget the remembered ones (`categories::Catalog`).
    CategoriesChanged,
}

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
    store: SharedStore,
    bus: EventBus,
}

impl Dispatcher {
    pub fn new(store: SharedStore, bus: EventBus) -> Self {
        Self { store, bus }
    }

    pub fn bus(&self) -> &EventBus {
        &self.bus
    }

    /// Invalidates what the events made stale, tells subscribers, and hands back the result.
    /// Never fails: the change is committed, and a missed effect only costs freshness.
    pub async fn settle<T>(&self, committed: Committed<T>) -> T {
        let Committed {
            value,
            events,
            notifications,
        } = committed;
        let mut stale: Vec<Namespace> = Vec::new();
        for namespace in events.iter().flat_map(DomainEvent::stale_reads) {
            if !stale.contains(namespace) {
                stale.push(*namespace);
            }
        }
        for namespace in stale {
            cache::invalidate(&self.store, namespace).await;
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
        if !messages.is_empty() {
            self.bus.publish_all(messages).await;
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_changes_make_cached_roles_stale() {
        let event = DomainEvent::RolesChanged {
            user_id: Uuid::now_v7(),
        };
        assert_eq!(event.stale_reads(), &[Namespace::Roles]);
    }
}

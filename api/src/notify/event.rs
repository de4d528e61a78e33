//! What a committed command changed, as the rest of the system needs to hear it.
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use entity::{enums::OrderStatus, order, redemption, wish};
use uuid::Uuid;

use crate::{
    infra::{
        cache::{Namespace, Stale},
        memo::Memo,
    },
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
    /// A result was published as a notice (公示): a topic's vote (told to its roll), a
    /// street's red/black list (told to the listed companies' people); each is told until
    /// when they may object.
    Published {
        message: String,
        objections_close_at: DateTime<Utc>,
        audience: Vec<Uuid>,
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
    pub fn stale_read(&self) -> Option<Stale> {
        let pool_of =
            |order: &order::Model| Stale::in_community(Namespace::OrderPool, order.community_id);
        match self {
            // The pool lists OPEN orders: only the steps that can enter or leave OPEN touch it,
            // and only the pool of the order's community. A transfer also takes an OPEN order
            // out of the pool of the community it leaves, which the event does not name.
            Self::OrderStepped {
                order,
                step: Some(step),
            } if touches_the_pool(*step) => Some(match step {
                Step::Transfer => Stale::everywhere(Namespace::OrderPool),
                _ => pool_of(order),
            }),
            Self::AlertChanged { order, .. } if order.status == OrderStatus::Open => {
                Some(pool_of(order))
            }
            // Each instance's catalog hears `CategoryChanged` on the bus instead.
            Self::OrderStepped { .. }
            | Self::AlertChanged { .. }
            | Self::RedemptionVerified(_)
            | Self::ApplicationReviewed { .. }
            | Self::Published { .. }
            | Self::WishChanged { .. }
            | Self::CategoryChanged { .. } => None,
            Self::RolesChanged { .. } => Some(Stale::everywhere(Namespace::Roles)),
            // The pool shows its orders' requesters, wherever their orders are.
            Self::ProfileChanged { .. } => Some(Stale::everywhere(Namespace::OrderPool)),
            Self::MerchantChanged { .. } => Some(Stale::everywhere(Namespace::Merchants)),
            Self::CommunityChanged { .. } => Some(Stale::everywhere(Namespace::Communities)),
        }
    }
}

/// Whether `step` can move an order into or out of the pool, read off the state machine once
/// per step: that tries every status with every relation.
fn touches_the_pool(step: Step) -> bool {
    static KNOWN: LazyLock<Memo<Step, bool>> = LazyLock::new(|| Memo::new(64));
    if let Some(known) = KNOWN.get(&step) {
        return known;
    }
    let touches = step.can_enter_or_leave(OrderStatus::Open);
    KNOWN.put(step, touches);
    touches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_changes_make_cached_roles_stale() {
        let event = DomainEvent::RolesChanged {
            user_id: Uuid::now_v7(),
        };
        assert_eq!(
            event.stale_read(),
            Some(Stale::everywhere(Namespace::Roles))
        );
    }
}

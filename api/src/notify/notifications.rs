//! What people are told when something happens: the notifications each domain event makes,
//! and who hears them. `infra::event_bus` carries them to subscribers on every instance.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use entity::{
    enums::{AlertLevel, WishStatus},
    order, redemption,
};

use super::event::{Application, DomainEvent};
use crate::{
    identity::Roles,
    orders::workflow::{Response, Step},
    values::china_time,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotificationKind {
    NewOrder,
    OrderDispatchedToYou,
    NewOpenOrder,
    OrderAccepted,
    OrderCompleted,
    LowRating,
    RedemptionVerified,
    /// STAFF decided on my Party-member registration or merchant application.
    ApplicationReviewed,
    /// An activity I signed up for starts within a day.
    ActivityReminder,
    /// Any change to an order; `orderUpdated` subscribers hear these.
    OrderChanged,
    /// An order of my community turned YELLOW or RED (STAFF; the street's staff at RED).
    OrderAlert,
    /// An order was escalated to my department (DEPARTMENT_STAFF, the street's staff).
    OrderEscalated,
    /// A department resolved or returned an order of my community (STAFF).
    EscalationAnswered,
    /// My wish was reviewed, claimed or delivered; a wish I delivered was confirmed; a wish
    /// waits for review (STAFF).
    WishUpdated,
    /// A result that concerns me is published as a notice (公示): a topic I was on the roll
    /// of, a red/black list that lists my company. I may object until a date.
    ResultPublished,
}

/// Who hears a notification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audience {
    pub users: Vec<Uuid>,
    pub staff_of: Option<Uuid>,
    pub members_of: Option<Uuid>,
    #[serde(default)]
    pub street_staff_of: Option<Uuid>,
    #[serde(default)]
    pub department_staff_of: Option<Uuid>,
}

impl Audience {
    pub fn of(users: Vec<Uuid>) -> Self {
        Self {
            users,
            ..Self::default()
        }
    }

    pub fn includes(&self, user_id: Uuid, roles: &Roles) -> bool {
        self.users.contains(&user_id)
            || self.staff_of.is_some_and(|c| roles.is_staff_of(c))
            || self.members_of.is_some_and(|c| roles.is_member_of(c))
            || self
                .street_staff_of
                .is_some_and(|s| roles.is_street_staff_of(s))
            || self
                .department_staff_of
                .is_some_and(|d| roles.is_department_staff_of(d))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub id: Uuid,
    pub kind: NotificationKind,
    pub order_id: Option<Uuid>,
    pub redemption_id: Option<Uuid>,
    pub message: String,
    pub at: DateTime<Utc>,
    pub audience: Audience,
}

impl Notification {
    pub fn new(kind: NotificationKind, message: impl Into<String>, audience: Audience) -> Self {
        Self {
            id: Uuid::now_v7(),
            kind,
            order_id: None,
            redemption_id: None,
            message: message.into(),
            at: Utc::now(),
            audience,
        }
    }
}

/// What an order's step tells whom (`None`: it was just placed). Every step also tells `orderUpdated` subscribers.
fn for_order(order: &order::Model, step: Option<Step>) -> Vec<Notification> {
    let about = |kind, message: &str, audience| Notification {
        order_id: Some(order.id),
        ..Notification::new(kind, format!("{message}: {}", order.title), audience)
    };
    let requester = Audience {
        users: vec![order.requester_id],
        ..Audience::default()
    };
    let mut notifications = vec![about(
        NotificationKind::OrderChanged,
        "order updated",
        Audience {
            users: [Some(order.requester_id), order.assignee_id, order.taker_id]
                .into_iter()
                .flatten()
                .collect(),
            staff_of: Some(order.community_id),
            department_staff_of: order.escalated_to_id,
            street_staff_of: order.escalated_street_id,
            ..Audience::default()
        },
    )];
    let to_dispatchers = |message: &str| {
        about(
            NotificationKind::NewOrder,
            message,
            Audience {
                staff_of: Some(order.community_id),
                ..Audience::default()
            },
        )
    };
    let specific = match step {
        None => Some(to_dispatchers("新的群众点单")),
        Some(Step::HandBack) => Some(to_dispatchers("党员退回订单，请重新派单")),
        Some(Step::Transfer) => Some(to_dispatchers("其他社区转来的订单")),
        Some(Step::Reopen { .. }) => Some(match order.taker_id {
            Some(taker) => about(
                NotificationKind::OrderDispatchedToYou,
                "居民反映问题未解决，订单已重开",
                Audience {
                    users: vec![taker],
                    ..Audience::default()
                },
            ),
            None => to_dispatchers("居民重开了订单，请重新派单"),
        }),
        Some(Step::Dispatch) => order.assignee_id.map(|assignee| {
            about(
                NotificationKind::OrderDispatchedToYou,
                "社区派单给您",
                Audience {
                    users: vec![assignee],
                    ..Audience::default()
                },
            )
        }),
        Some(Step::Publish) => Some(about(
            NotificationKind::NewOpenOrder,
            "新的可接订单",
            Audience {
                members_of: Some(order.community_id),
                ..Audience::default()
            },
        )),
        Some(Step::Take) => Some(about(
            NotificationKind::OrderAccepted,
            "您的订单已被接单",
            requester,
        )),
        Some(Step::Complete) => Some(about(
            NotificationKind::OrderCompleted,
            "您的订单已完成，请评价",
            requester,
        )),
        Some(Step::Respond(Response::Resolve)) => {
            notifications.push(about(
                NotificationKind::EscalationAnswered,
                "部门已办结上报的订单，请安排回访",
                Audience {
                    staff_of: Some(order.community_id),
                    ..Audience::default()
                },
            ));
            Some(about(
                NotificationKind::OrderCompleted,
                "部门已办结您的诉求，请评价",
                requester,
            ))
        }
        Some(Step::Escalate | Step::Respond(Response::PassOn)) => Some(about(
            NotificationKind::OrderEscalated,
            "社区上报的诉求，请及时处理",
            Audience {
                department_staff_of: order.escalated_to_id,
                street_staff_of: order.escalated_street_id,
                ..Audience::default()
            },
        )),
        Some(Step::Respond(Response::Return)) => Some(about(
            NotificationKind::EscalationAnswered,
            "部门退回了上报的订单，请重新派单",
            Audience {
                staff_of: Some(order.community_id),
                ..Audience::default()
            },
        )),
        Some(Step::Rate) if order.rating_stars.is_some_and(|stars| stars <= 2) => Some(about(
            NotificationKind::LowRating,
            "低分评价，请回访",
            Audience {
                staff_of: Some(order.community_id),
                ..Audience::default()
            },
        )),
        Some(_) => None,
    };
    notifications.extend(specific);
    notifications
}

/// What a domain event tells whom; events that concern nobody's screen tell no one.
pub fn for_event(event: &DomainEvent) -> Vec<Notification> {
    match event {
        DomainEvent::OrderStepped { order, step } => for_order(order, *step),
        DomainEvent::RedemptionVerified(redemption) => vec![redemption_verified(redemption)],
        DomainEvent::AlertChanged { order, street_id } => {
            let message = match order.alert_level {
                AlertLevel::Green => return Vec::new(),
                AlertLevel::Yellow => "订单亮黄灯",
                AlertLevel::Red => "订单亮红灯",
            };
            // Red reaches the street too.
            let street = street_id.filter(|_| order.alert_level == AlertLevel::Red);
            vec![Notification {
                order_id: Some(order.id),
                ..Notification::new(
                    NotificationKind::OrderAlert,
                    format!("{message}: {}", order.title),
                    Audience {
                        staff_of: Some(order.community_id),
                        street_staff_of: street,
                        ..Audience::default()
                    },
                )
            }]
        }
        DomainEvent::WishChanged { wish } => {
            let resident = vec![wish.resident_id];
            let (message, audience) = match wish.status {
                WishStatus::PendingReview => (
                    "新的微心愿待审核",
                    Audience {
                        staff_of: Some(wish.community_id),
                        ..Audience::default()
                    },
                ),
                WishStatus::Open => ("您的微心愿已上墙", Audience::of(resident)),
                WishStatus::Rejected => ("您的微心愿未通过审核", Audience::of(resident)),
                WishStatus::Claimed => ("您的微心愿已被认领", Audience::of(resident)),
                WishStatus::Delivered => ("微心愿已送达，请确认", Audience::of(resident)),
                WishStatus::Fulfilled => (
                    "居民已确认微心愿实现",
                    Audience::of(wish.claimer_id.into_iter().collect()),
                ),
                WishStatus::Closed => return Vec::new(),
            };
            vec![Notification::new(
                NotificationKind::WishUpdated,
                format!("{message}: {}", wish.title),
                audience,
            )]
        }
        DomainEvent::ApplicationReviewed {
            applicant_id,
            application,
            approved,
        } => {
            let message = match (application, approved) {
                (Application::PartyMember, true) => "您的党员报到申请已通过",
                (Application::PartyMember, false) => "您的党员报到申请未通过",
                (Application::Merchant, true) => "您的商户已通过审核",
                (Application::Merchant, false) => "您的商户已被暂停",
            };
            vec![Notification::new(
                NotificationKind::ApplicationReviewed,
                message,
                Audience {
                    users: vec![*applicant_id],
                    ..Audience::default()
                },
            )]
        }
        DomainEvent::Published {
            message,
            objections_close_at,
            audience,
        } => vec![Notification::new(
            NotificationKind::ResultPublished,
            format!(
                "{message}（{}前可提出异议）",
                china_time::local(*objections_close_at).format("%-m月%-d日 %H:%M")
            ),
            Audience::of(audience.clone()),
        )],
        DomainEvent::RolesChanged { .. }
        | DomainEvent::ProfileChanged { .. }
        | DomainEvent::MerchantChanged { .. }
        | DomainEvent::CommunityChanged { .. }
        | DomainEvent::CategoryChanged { .. } => Vec::new(),
    }
}

fn redemption_verified(redemption: &redemption::Model) -> Notification {
    let audience = Audience {
        users: vec![redemption.user_id],
        ..Audience::default()
    };
    Notification {
        redemption_id: Some(redemption.id),
        ..Notification::new(
            NotificationKind::RedemptionVerified,
            "您的积分兑换已核销",
            audience,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::enums::OrderStatus;

    fn order() -> order::Model {
        order::Model {
            status: OrderStatus::Accepted,
            taker_id: Some(Uuid::now_v7()),
            version: 1,
            ..crate::orders::sample_order()
        }
    }

    #[test]
    fn taking_an_order_tells_its_requester() {
        let order = order();
        let notifications = for_order(&order, Some(Step::Take));
        let accepted = notifications
            .iter()
            .find(|n| n.kind == NotificationKind::OrderAccepted)
            .expect("accepted");
        assert!(
            accepted
                .audience
                .includes(order.requester_id, &Roles::default())
        );
        assert!(
            !accepted
                .audience
                .includes(order.taker_id.expect("taker"), &Roles::default())
        );
        assert!(
            notifications
                .iter()
                .any(|n| n.kind == NotificationKind::OrderChanged)
        );
    }

    #[test]
    fn only_low_ratings_alert_staff() {
        let mut order = order();
        order.rating_stars = Some(5);
        assert!(
            !for_order(&order, Some(Step::Rate))
                .iter()
                .any(|n| n.kind == NotificationKind::LowRating)
        );
        order.rating_stars = Some(2);
        assert!(
            for_order(&order, Some(Step::Rate))
                .iter()
                .any(|n| n.kind == NotificationKind::LowRating)
        );
    }
}

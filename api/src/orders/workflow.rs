//! The four-list state machine (点单 → 派单 → 接单 → 评单) as a pure function: given the
//! order's status, the step asked for and how the actor relates to the order, either the next
//! status or the reason it is refused. The service applies the answer in a transaction.
use entity::enums::OrderStatus::{self, *};
use sea_orm::Iterable;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// STAFF choose the member (again, when it is already dispatched to someone else).
    Dispatch,
    Publish,
    Take,
    Decline,
    /// The taker gives an accepted order back, with a reason.
    HandBack,
    /// STAFF pass it to another community, with a reason.
    Transfer,
    /// The taker reports how it is going; it counts as progress for alerts.
    Progress,
    Complete,
    Rate,
    /// The requester says it was not fixed: back to its taker when they are still a member
    /// of the community, else back to dispatch.
    Reopen {
        taker_available: bool,
    },
    Cancel,
    /// STAFF send it up to a street or district department (吹哨).
    Escalate,
    /// The department (or its street's staff) answer (报到).
    Respond(Response),
}

/// What the department an order is escalated to does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Response {
    Accept,
    Progress,
    /// Solved: the order returns to its community completed, for rating and callback.
    Resolve,
    /// Not theirs to solve: back to the community for dispatch.
    Return,
    /// A street department hands it to a district department.
    PassOn,
}

impl Step {
    /// Whether this step, taken by anyone, can move an order into or out of `status`: the
    /// order pool lists OPEN orders, and a step that can change that list makes its cached
    /// pages stale. Read off `next_status`, so a new transition cannot be forgotten here.
    pub fn can_enter_or_leave(self, status: OrderStatus) -> bool {
        // Every way an actor can relate to an order: some steps need one relation and refuse
        // another (nobody takes their own order).
        let mut relations = (0..64u8).map(|bits| Relation {
            requester: bits & 1 != 0,
            staff: bits & 2 != 0,
            assignee: bits & 4 != 0,
            taker: bits & 8 != 0,
            member: bits & 16 != 0,
            department: bits & 32 != 0,
        });
        relations.any(|who| {
            OrderStatus::iter().any(|from| {
                next_status(from, self, who).is_ok_and(|to| (from == status) != (to == status))
            })
        })
    }

    /// Recorded in the order's event timeline.
    pub fn action(self) -> &'static str {
        match self {
            Step::Dispatch => "DISPATCH",
            Step::Publish => "PUBLISH",
            Step::Take => "TAKE",
            Step::Decline => "DECLINE",
            Step::HandBack => "HAND_BACK",
            Step::Transfer => "TRANSFER",
            Step::Progress => "PROGRESS",
            Step::Reopen { .. } => "REOPEN",
            Step::Complete => "COMPLETE",
            Step::Rate => "RATE",
            Step::Cancel => "CANCEL",
            Step::Escalate => "ESCALATE",
            Step::Respond(Response::Accept) => "ESCALATION_ACCEPT",
            Step::Respond(Response::Progress) => "ESCALATION_PROGRESS",
            Step::Respond(Response::Resolve) => "ESCALATION_RESOLVE",
            Step::Respond(Response::Return) => "ESCALATION_RETURN",
            Step::Respond(Response::PassOn) => "ESCALATION_PASS_ON",
        }
    }
}

/// How the actor relates to one order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Relation {
    pub requester: bool,
    /// STAFF of the order's community (or ADMIN).
    pub staff: bool,
    /// The member it is dispatched to.
    pub assignee: bool,
    /// The member who accepted it.
    pub taker: bool,
    /// An approved Party member of the order's community.
    pub member: bool,
    /// Staff of the department the order is escalated to, or of the street acting for it.
    pub department: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The actor may never do this to this order.
    Forbidden(&'static str),
    /// The actor could, but not in the order's current state.
    WrongState(String),
}

/// How long after completion the requester may reopen an order.
pub const REOPEN_WINDOW: chrono::Duration = chrono::Duration::days(7);

pub fn may_reopen(
    completed_at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    completed_at.is_some_and(|at| now - at <= REOPEN_WINDOW)
}

/// Orders still waiting for someone to accept them; their deadline is the response time.
pub const AWAITING_ACCEPTANCE: [OrderStatus; 3] = [PendingDispatch, Dispatched, Open];

/// Orders nothing more happens to, unless the requester reopens one (its statistics are
/// settled, Open311 shows it closed).
pub const CLOSED: [OrderStatus; 3] = [Completed, Rated, Cancelled];

/// Orders someone still has to act on: every status that is not `CLOSED`. Deleting an account,
/// for one, waits until none of these involves it.
pub const OPEN_WORK: [OrderStatus; 5] = [PendingDispatch, Dispatched, Open, Accepted, Escalated];

/// A requester may reopen an order once: a second reopen would restart the hold on the
/// member's points at every completion.
pub const MAX_REOPENS: u64 = 1;

fn label(status: OrderStatus) -> &'static str {
    match status {
        PendingDispatch => "waiting for dispatch",
        Dispatched => "dispatched to a member",
        Open => "open for members to take",
        Accepted => "already accepted",
        Completed => "already completed",
        Rated => "already rated",
        Cancelled => "cancelled",
        Escalated => "escalated to a department",
    }
}

/// The step as the verb of a sentence about "this order".
fn verb(step: Step) -> &'static str {
    match step {
        Step::Dispatch => "dispatch",
        Step::Publish => "publish",
        Step::Take => "take",
        Step::Decline => "decline",
        Step::HandBack => "hand back",
        Step::Transfer => "transfer",
        Step::Progress => "report progress on",
        Step::Reopen { .. } => "reopen",
        Step::Complete => "complete",
        Step::Rate => "rate",
        Step::Cancel => "cancel",
        Step::Escalate => "escalate",
        Step::Respond(Response::Accept) => "accept the escalation of",
        Step::Respond(Response::Progress) => "report escalation progress on",
        Step::Respond(Response::Resolve) => "resolve",
        Step::Respond(Response::Return) => "return",
        Step::Respond(Response::PassOn) => "pass on",
    }
}

fn wrong_state(step: Step, status: OrderStatus) -> Refusal {
    Refusal::WrongState(format!(
        "cannot {} this order: it is {}",
        verb(step),
        label(status)
    ))
}

pub fn next_status(status: OrderStatus, step: Step, who: Relation) -> Result<OrderStatus, Refusal> {
    let allowed = |ok: bool, why: &'static str| {
        if ok {
            Ok(())
        } else {
            Err(Refusal::Forbidden(why))
        }
    };
    match step {
        Step::Dispatch => {
            allowed(
                who.staff,
                "only STAFF of the order's community may dispatch it",
            )?;
            match status {
                PendingDispatch | Open | Dispatched => Ok(Dispatched),
                _ => Err(wrong_state(step, status)),
            }
        }
        Step::HandBack => {
            allowed(
                who.taker,
                "only the member who took the order may hand it back",
            )?;
            match status {
                Accepted => Ok(PendingDispatch),
                _ => Err(wrong_state(step, status)),
            }
        }
        Step::Transfer => {
            allowed(
                who.staff,
                "only STAFF of the order's community may transfer it",
            )?;
            match status {
                // Someone on the way hands it back first.
                PendingDispatch | Dispatched | Open => Ok(PendingDispatch),
                _ => Err(wrong_state(step, status)),
            }
        }
        Step::Progress => {
            allowed(
                who.taker,
                "only the member who took the order may report its progress",
            )?;
            match status {
                Accepted => Ok(Accepted),
                _ => Err(wrong_state(step, status)),
            }
        }
        Step::Reopen { taker_available } => {
            allowed(
                who.requester,
                "only the resident who placed the order may reopen it",
            )?;
            match status {
                Completed | Rated if taker_available => Ok(Accepted),
                Completed | Rated => Ok(PendingDispatch),
                _ => Err(wrong_state(step, status)),
            }
        }
        Step::Publish => {
            allowed(
                who.staff,
                "only STAFF of the order's community may publish it",
            )?;
            match status {
                PendingDispatch => Ok(Open),
                _ => Err(wrong_state(step, status)),
            }
        }
        Step::Take => {
            allowed(
                !who.requester,
                "you placed this order: someone else must take it",
            )?;
            allowed(
                who.member || who.assignee,
                "only approved Party members of the order's community may take it",
            )?;
            match status {
                Open => Ok(Accepted),
                Dispatched if who.assignee => Ok(Accepted),
                Dispatched => Err(Refusal::Forbidden(
                    "this order is dispatched to another member",
                )),
                _ => Err(wrong_state(step, status)),
            }
        }
        Step::Decline => {
            allowed(
                who.assignee,
                "only the member it is dispatched to may decline it",
            )?;
            match status {
                Dispatched => Ok(PendingDispatch),
                _ => Err(wrong_state(step, status)),
            }
        }
        Step::Complete => {
            allowed(
                who.taker,
                "only the member who took the order may complete it",
            )?;
            match status {
                Accepted => Ok(Completed),
                _ => Err(wrong_state(step, status)),
            }
        }
        Step::Rate => {
            allowed(
                who.requester,
                "only the resident who placed the order may rate it",
            )?;
            match status {
                Completed => Ok(Rated),
                _ => Err(wrong_state(step, status)),
            }
        }
        Step::Escalate => {
            allowed(
                who.staff,
                "only STAFF of the order's community may escalate it",
            )?;
            match status {
                PendingDispatch | Dispatched | Open | Accepted => Ok(Escalated),
                _ => Err(wrong_state(step, status)),
            }
        }
        Step::Respond(response) => {
            allowed(
                who.department,
                "only the department the order is escalated to, or its street's staff, may answer it",
            )?;
            match (status, response) {
                (Escalated, Response::Resolve) => Ok(Completed),
                (Escalated, Response::Return) => Ok(PendingDispatch),
                (Escalated, _) => Ok(Escalated),
                _ => Err(wrong_state(step, status)),
            }
        }
        Step::Cancel => {
            allowed(
                who.requester || who.staff,
                "only the resident who placed the order, or STAFF, may cancel it",
            )?;
            match status {
                PendingDispatch | Dispatched | Open => Ok(Cancelled),
                // Once someone is on the way only staff, who can reach them, may call it off.
                Accepted if who.staff => Ok(Cancelled),
                _ => Err(wrong_state(step, status)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steps_that_can_change_the_pool_are_those_into_or_out_of_open() {
        let pool_steps: Vec<Step> = [
            Step::Dispatch,
            Step::Publish,
            Step::Take,
            Step::Decline,
            Step::HandBack,
            Step::Transfer,
            Step::Progress,
            Step::Complete,
            Step::Rate,
            Step::Reopen {
                taker_available: true,
            },
            Step::Reopen {
                taker_available: false,
            },
            Step::Cancel,
            Step::Escalate,
            Step::Respond(Response::Accept),
            Step::Respond(Response::Progress),
            Step::Respond(Response::Resolve),
            Step::Respond(Response::Return),
            Step::Respond(Response::PassOn),
        ]
        .into_iter()
        .filter(|step| step.can_enter_or_leave(Open))
        .collect();
        assert_eq!(
            pool_steps,
            [
                Step::Dispatch,
                Step::Publish,
                Step::Take,
                Step::Transfer,
                Step::Cancel,
                Step::Escalate
            ]
        );
    }

    #[test]
    fn every_status_is_either_open_work_or_closed() {
        for status in OrderStatus::iter() {
            assert!(
                OPEN_WORK.contains(&status) != CLOSED.contains(&status),
                "{status:?}"
            );
        }
    }

    #[test]
    fn refusals_read_as_sentences() {
        let Err(Refusal::WrongState(why)) = next_status(
            Completed,
            Step::Respond(Response::Progress),
            Relation {
                department: true,
                ..Relation::default()
            },
        ) else {
            panic!("refused");
        };
        assert_eq!(
            why,
            "cannot report escalation progress on this order: it is already completed"
        );
    }

    #[test]
    fn nobody_takes_their_own_order() {
        let requester_and_member = Relation {
            requester: true,
            member: true,
            assignee: true,
            ..Relation::default()
        };
        for status in [Open, Dispatched] {
            assert!(matches!(
                next_status(status, Step::Take, requester_and_member),
                Err(Refusal::Forbidden(_))
            ));
        }
    }

    const STAFF: Relation = Relation {
        requester: false,
        staff: true,
        assignee: false,
        taker: false,
        member: false,
        department: false,
    };
    const REQUESTER: Relation = Relation {
        requester: true,
        staff: false,
        assignee: false,
        taker: false,
        member: false,
        department: false,
    };
    const MEMBER: Relation = Relation {
        requester: false,
        staff: false,
        assignee: false,
        taker: false,
        member: true,
        department: false,
    };
    const ASSIGNEE: Relation = Relation {
        requester: false,
        staff: false,
        assignee: true,
        taker: false,
        member: true,
        department: false,
    };
    const TAKER: Relation = Relation {
        requester: false,
        staff: false,
        assignee: false,
        taker: true,
        member: true,
        department: false,
    };

    #[test]
    fn the_happy_path_runs_from_order_to_rating() {
        let dispatched = next_status(PendingDispatch, Step::Dispatch, STAFF);
        assert_eq!(dispatched, Ok(Dispatched));
        assert_eq!(next_status(Dispatched, Step::Take, ASSIGNEE), Ok(Accepted));
        assert_eq!(next_status(Accepted, Step::Complete, TAKER), Ok(Completed));
        assert_eq!(next_status(Completed, Step::Rate, REQUESTER), Ok(Rated));
    }

    #[test]
    fn any_member_may_take_an_open_order_but_not_one_dispatched_to_another() {
        assert_eq!(next_status(Open, Step::Take, MEMBER), Ok(Accepted));
        assert!(matches!(
            next_status(Dispatched, Step::Take, MEMBER),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            next_status(Accepted, Step::Take, MEMBER),
            Err(Refusal::WrongState(_))
        ));
    }

    #[test]
    fn residents_cannot_dispatch_or_take() {
        assert!(matches!(
            next_status(PendingDispatch, Step::Dispatch, REQUESTER),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            next_status(Open, Step::Take, REQUESTER),
            Err(Refusal::Forbidden(_))
        ));
    }

    #[test]
    fn declining_returns_the_order_to_dispatch() {
        assert_eq!(
            next_status(Dispatched, Step::Decline, ASSIGNEE),
            Ok(PendingDispatch)
        );
        assert!(matches!(
            next_status(Dispatched, Step::Decline, MEMBER),
            Err(Refusal::Forbidden(_))
        ));
    }

    #[test]
    fn orders_go_back_to_dispatch_when_handed_back_or_transferred() {
        assert_eq!(
            next_status(Accepted, Step::HandBack, TAKER),
            Ok(PendingDispatch)
        );
        assert!(matches!(
            next_status(Accepted, Step::HandBack, MEMBER),
            Err(Refusal::Forbidden(_))
        ));
        assert_eq!(
            next_status(Dispatched, Step::Dispatch, STAFF),
            Ok(Dispatched)
        );
        for status in [PendingDispatch, Dispatched, Open] {
            assert_eq!(
                next_status(status, Step::Transfer, STAFF),
                Ok(PendingDispatch)
            );
        }
        assert!(matches!(
            next_status(Accepted, Step::Transfer, STAFF),
            Err(Refusal::WrongState(_))
        ));
        assert!(matches!(
            next_status(Open, Step::Transfer, TAKER),
            Err(Refusal::Forbidden(_))
        ));
    }

    #[test]
    fn a_reopened_order_returns_to_its_taker_while_they_can_take_it() {
        let back = Step::Reopen {
            taker_available: true,
        };
        let gone = Step::Reopen {
            taker_available: false,
        };
        for status in [Completed, Rated] {
            assert_eq!(next_status(status, back, REQUESTER), Ok(Accepted));
            assert_eq!(next_status(status, gone, REQUESTER), Ok(PendingDispatch));
            assert!(matches!(
                next_status(status, back, STAFF),
                Err(Refusal::Forbidden(_))
            ));
        }
        assert!(matches!(
            next_status(Accepted, back, REQUESTER),
            Err(Refusal::WrongState(_))
        ));
    }

    #[test]
    fn staff_escalate_and_only_the_department_answers() {
        const DEPARTMENT: Relation = Relation {
            requester: false,
            staff: false,
            assignee: false,
            taker: false,
            member: false,
            department: true,
        };
        for status in [PendingDispatch, Dispatched, Open, Accepted] {
            assert_eq!(next_status(status, Step::Escalate, STAFF), Ok(Escalated));
        }
        assert!(matches!(
            next_status(Completed, Step::Escalate, STAFF),
            Err(Refusal::WrongState(_))
        ));
        assert!(matches!(
            next_status(Open, Step::Escalate, DEPARTMENT),
            Err(Refusal::Forbidden(_))
        ));
        let respond = |response| next_status(Escalated, Step::Respond(response), DEPARTMENT);
        assert_eq!(respond(Response::Accept), Ok(Escalated));
        assert_eq!(respond(Response::PassOn), Ok(Escalated));
        assert_eq!(respond(Response::Resolve), Ok(Completed));
        assert_eq!(respond(Response::Return), Ok(PendingDispatch));
        for who in [STAFF, TAKER, REQUESTER] {
            assert!(matches!(
                next_status(Escalated, Step::Respond(Response::Resolve), who),
                Err(Refusal::Forbidden(_))
            ));
        }
        assert!(matches!(
            next_status(Accepted, Step::Respond(Response::Accept), DEPARTMENT),
            Err(Refusal::WrongState(_))
        ));
        // While a department has it, the community cannot close it under them.
        assert!(matches!(
            next_status(Escalated, Step::Cancel, STAFF),
            Err(Refusal::WrongState(_))
        ));
    }

    #[test]
    fn an_order_is_rated_once() {
        assert!(matches!(
            next_status(Rated, Step::Rate, REQUESTER),
            Err(Refusal::WrongState(_))
        ));
    }

    #[test]
    fn only_staff_cancel_an_accepted_order() {
        assert!(matches!(
            next_status(Accepted, Step::Cancel, REQUESTER),
            Err(Refusal::WrongState(_))
        ));
        assert_eq!(next_status(Accepted, Step::Cancel, STAFF), Ok(Cancelled));
        assert!(matches!(
            next_status(Completed, Step::Cancel, STAFF),
            Err(Refusal::WrongState(_))
        ));
        assert!(matches!(
            next_status(Open, Step::Cancel, MEMBER),
            Err(Refusal::Forbidden(_))
        ));
    }
}

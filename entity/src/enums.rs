use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Role {
    #[sea_orm(string_value = "RESIDENT")]
    Resident,
    #[sea_orm(string_value = "PARTY_MEMBER")]
    PartyMember,
    #[sea_orm(string_value = "STAFF")]
    Staff,
    #[sea_orm(string_value = "MERCHANT")]
    Merchant,
    #[sea_orm(string_value = "ADMIN")]
    Admin,
    /// 网格员: looks after a grid of a community (see `grids.worker_id`).
    #[sea_orm(string_value = "GRID_WORKER")]
    GridWorker,
    /// Acts for a street (街道): its departments' escalations, its communities' red alerts.
    #[sea_orm(string_value = "STREET_STAFF")]
    StreetStaff,
    /// Works in a street or district department (城管, 住建 …) that takes escalated orders.
    #[sea_orm(string_value = "DEPARTMENT_STAFF")]
    DepartmentStaff,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum OrderStatus {
    #[sea_orm(string_value = "PENDING_DISPATCH")]
    PendingDispatch,
    #[sea_orm(string_value = "DISPATCHED")]
    Dispatched,
    #[sea_orm(string_value = "OPEN")]
    Open,
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    #[sea_orm(string_value = "RATED")]
    Rated,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    /// Passed up to a street or district department (吹哨报到) until it answers.
    #[sea_orm(string_value = "ESCALATED")]
    Escalated,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Urgency {
    #[sea_orm(string_value = "NORMAL")]
    Normal,
    #[sea_orm(string_value = "URGENT")]
    Urgent,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ApplicationStatus {
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "APPROVED")]
    Approved,
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SignupStatus {
    #[sea_orm(string_value = "SIGNED_UP")]
    SignedUp,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    /// Signed up, not checked in by the end of the activity.
    #[sea_orm(string_value = "NO_SHOW")]
    NoShow,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ServiceSource {
    #[sea_orm(string_value = "ORDER")]
    Order,
    #[sea_orm(string_value = "ACTIVITY")]
    Activity,
    /// A micro-wish a Party member fulfilled.
    #[sea_orm(string_value = "WISH")]
    Wish,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum RecordStatus {
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "CONFIRMED")]
    Confirmed,
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum EntryKind {
    #[sea_orm(string_value = "EARN")]
    Earn,
    #[sea_orm(string_value = "SPEND")]
    Spend,
    #[sea_orm(string_value = "REFUND")]
    Refund,
    #[sea_orm(string_value = "ADJUST")]
    Adjust,
    #[sea_orm(string_value = "REVERSAL")]
    Reversal,
    /// Points of an order's record taken back while the resident has it reopened.
    #[sea_orm(string_value = "HOLD")]
    Hold,
    /// What a HOLD took, given back when the record is confirmed again.
    #[sea_orm(string_value = "RELEASE")]
    Release,
    /// Points given to family.
    #[sea_orm(string_value = "GIFT_OUT")]
    GiftOut,
    /// Points received from family.
    #[sea_orm(string_value = "GIFT_IN")]
    GiftIn,
    /// Points earned in a year past the community's expiry.
    #[sea_orm(string_value = "EXPIRE")]
    Expire,
}

/// When a community's points expire.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PointsExpiry {
    /// Never.
    #[sea_orm(string_value = "NONE")]
    Never,
    /// Points earned in year N expire at the end of year N+1 (China time).
    #[sea_orm(string_value = "END_OF_NEXT_YEAR")]
    EndOfNextYear,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum MerchantKind {
    #[sea_orm(string_value = "MERCHANT")]
    Merchant,
    /// A community-run store (红领超市).
    #[sea_orm(string_value = "COMMUNITY_STORE")]
    CommunityStore,
    /// A property company whose offers are fee offsets: points → yuan off the property fee.
    #[sea_orm(string_value = "PROPERTY_COMPANY")]
    PropertyCompany,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum MerchantStatus {
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    #[sea_orm(string_value = "SUSPENDED")]
    Suspended,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Badge {
    /// 党员经营示范户
    #[sea_orm(string_value = "PARTY_MEMBER_MODEL")]
    PartyMemberModel,
    /// 志愿爱心商家
    #[sea_orm(string_value = "VOLUNTEER_FRIENDLY")]
    VolunteerFriendly,
    /// 文明诚信经营户
    #[sea_orm(string_value = "HONEST_BUSINESS")]
    HonestBusiness,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum RedemptionStatus {
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "VERIFIED")]
    Verified,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    #[sea_orm(string_value = "EXPIRED")]
    Expired,
}

/// Where an inbox message stands in being sent outside the app (WeChat subscription message).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Delivery {
    /// Waiting for the delivery worker (again, after a failed attempt).
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "SENT")]
    Sent,
    /// Not sent: the person gave no consent for this kind, or it has no template. It stays in
    /// the inbox.
    #[sea_orm(string_value = "SKIPPED")]
    Skipped,
    /// Written to the log instead of sent (no WeChat credentials: dev mode).
    #[sea_orm(string_value = "LOGGED")]
    Logged,
    /// Given up after the last attempt; ADMIN see these.
    #[sea_orm(string_value = "DEAD")]
    Dead,
}

/// What an uploaded photo is for; it decides where it may be attached.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PhotoPurpose {
    /// The resident's photo of the problem, on placing an order.
    #[sea_orm(string_value = "ORDER_PHOTO")]
    OrderPhoto,
    /// The taker's photo of the result, on completing an order.
    #[sea_orm(string_value = "COMPLETION_PHOTO")]
    CompletionPhoto,
    /// A merchant's storefront photo.
    #[sea_orm(string_value = "MERCHANT_PHOTO")]
    MerchantPhoto,
    /// What a resident's micro-wish is about.
    #[sea_orm(string_value = "WISH_PHOTO")]
    WishPhoto,
    /// A grid worker's photo of a patrol point, on signing it off.
    #[sea_orm(string_value = "PATROL_PHOTO")]
    PatrolPhoto,
}

/// WeChat's image check (`mediaCheckAsync`) of an attached photo.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PhotoReview {
    /// Not sent for checking: not attached yet, no WeChat credentials (development), or
    /// WeChat unreachable under the fail-open policy (then flagged for STAFF). Shown.
    #[sea_orm(string_value = "UNCHECKED")]
    Unchecked,
    /// Waiting for WeChat's verdict: shown to its uploader only.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "PASSED")]
    Passed,
    /// Risky: hidden from everyone and removed from storage.
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
}

/// How an order came in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum OrderChannel {
    /// The resident, in the mini-program.
    #[sea_orm(string_value = "APP")]
    App,
    /// STAFF, for a resident who came in or has no smartphone (代办).
    #[sea_orm(string_value = "STAFF")]
    Staff,
    /// A hotline operator, from a call.
    #[sea_orm(string_value = "HOTLINE")]
    Hotline,
    /// A grid worker, from what they found on patrol (发现上报).
    #[sea_orm(string_value = "PATROL")]
    Patrol,
}

/// How late an order is running (see `orders::alerts`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum AlertLevel {
    #[sea_orm(string_value = "GREEN")]
    Green,
    #[sea_orm(string_value = "YELLOW")]
    Yellow,
    #[sea_orm(string_value = "RED")]
    Red,
}

/// Who an order is escalated to: a department of the community's street, or of its district.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum EscalationLevel {
    #[sea_orm(string_value = "STREET")]
    Street,
    #[sea_orm(string_value = "DISTRICT")]
    District,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum EscalationStatus {
    /// Waiting for the department to accept it.
    #[sea_orm(string_value = "OPEN")]
    Open,
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    /// Solved by the department; the order is back with its community, completed.
    #[sea_orm(string_value = "RESOLVED")]
    Resolved,
    /// Not the department's to solve: back to the community for dispatch.
    #[sea_orm(string_value = "RETURNED")]
    Returned,
    /// The street passed it on to a district department.
    #[sea_orm(string_value = "PASSED_ON")]
    PassedOn,
}

/// A micro-wish (微心愿) on its way from the resident to whoever fulfils it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum WishStatus {
    /// Posted, waiting for STAFF to put it on the wish wall.
    #[sea_orm(string_value = "PENDING_REVIEW")]
    PendingReview,
    /// On the wall, for anyone who may claim it.
    #[sea_orm(string_value = "OPEN")]
    Open,
    #[sea_orm(string_value = "CLAIMED")]
    Claimed,
    /// The claimer says it is done; the resident has yet to confirm.
    #[sea_orm(string_value = "DELIVERED")]
    Delivered,
    /// Confirmed by the resident: it counts.
    #[sea_orm(string_value = "FULFILLED")]
    Fulfilled,
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
    /// Nobody claimed it by the date it was needed.
    #[sea_orm(string_value = "CLOSED")]
    Closed,
}

/// Who claimed a wish, as what.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Claimer {
    #[sea_orm(string_value = "PARTY_MEMBER")]
    PartyMember,
    #[sea_orm(string_value = "MERCHANT")]
    Merchant,
    /// A unit stationed in the community (驻区单位), through its representative.
    #[sea_orm(string_value = "UNIT")]
    Unit,
}

/// A unit's standing with the community it reports to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum UnitStatus {
    #[sea_orm(string_value = "PENDING_REVIEW")]
    PendingReview,
    #[sea_orm(string_value = "APPROVED")]
    Approved,
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
}

/// A resident's good deed (积分制) on its way to points.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum DeedStatus {
    /// Reported; the grid worker (or STAFF) checks it happened.
    #[sea_orm(string_value = "PENDING_CHECK")]
    PendingCheck,
    /// Checked; STAFF confirm it with points.
    #[sea_orm(string_value = "PENDING_REVIEW")]
    PendingReview,
    #[sea_orm(string_value = "CONFIRMED")]
    Confirmed,
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
}

/// A consultation topic's phase (议事): raised, discussed, voted on, closed (sealed), published.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum TopicStatus {
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    #[sea_orm(string_value = "DISCUSSION")]
    Discussion,
    #[sea_orm(string_value = "VOTING")]
    Voting,
    #[sea_orm(string_value = "CLOSED")]
    Closed,
    #[sea_orm(string_value = "PUBLISHED")]
    Published,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum BallotKind {
    /// 赞成 / 反对 / 弃权.
    #[sea_orm(string_value = "YES_NO_ABSTAIN")]
    YesNoAbstain,
    /// One of the options.
    #[sea_orm(string_value = "ONE_OF")]
    OneOf,
    /// Up to `max_choices` of the options.
    #[sea_orm(string_value = "UP_TO")]
    UpTo,
}

/// Who casts one ballot: each household (户) or each person.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum VotingUnit {
    #[sea_orm(string_value = "HOUSEHOLD")]
    Household,
    #[sea_orm(string_value = "PERSON")]
    Person,
}

/// Who may vote on a topic.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Electorate {
    /// Residents the community confirmed (RESIDENT), registered in it (or its chosen grids) at an address.
    #[sea_orm(string_value = "RESIDENTS")]
    Residents,
    /// Confirmed Party members of the community, for Party matters.
    #[sea_orm(string_value = "PARTY_MEMBERS")]
    PartyMembers,
}

/// Where a ballot was cast: in the app, or on paper at the community office.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum BallotSource {
    #[sea_orm(string_value = "APP")]
    App,
    #[sea_orm(string_value = "PAPER")]
    Paper,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PatrolStatus {
    /// Points are left to sign off.
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// Every point is signed off.
    #[sea_orm(string_value = "DONE")]
    Done,
}

/// When a point was signed off against its patrol's window.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PatrolTiming {
    #[sea_orm(string_value = "EARLY")]
    Early,
    #[sea_orm(string_value = "ON_TIME")]
    OnTime,
    #[sea_orm(string_value = "LATE")]
    Late,
}

/// A property rating round: open for ratings until it is closed and sealed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum RoundStatus {
    #[sea_orm(string_value = "OPEN")]
    Open,
    #[sea_orm(string_value = "CLOSED")]
    Closed,
}

/// A black-listed company's rectification task (整改).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum RectificationStatus {
    /// Waiting for the company's report (again, when the street sent it back).
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// The company reported what it did; the street reviews it.
    #[sea_orm(string_value = "REPORTED")]
    Reported,
    /// The street accepted the report.
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
}

/// Whose placing budget an order counts against: the resident's own, the one of orders STAFF or
/// a hotline place for them, or a grid worker's patrol findings.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum PlacingLane {
    #[sea_orm(string_value = "OWN")]
    Own,
    #[sea_orm(string_value = "ON_BEHALF")]
    OnBehalf,
    #[sea_orm(string_value = "PATROL")]
    Patrol,
}

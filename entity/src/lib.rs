//! sea-orm entities: one module per table, plus the enums stored as strings.
//! These are storage types only; the GraphQL layer has its own.
pub mod activity;
pub mod activity_signup;
pub mod adjustment_request;
pub mod community;
pub mod content_flag;
pub mod district;
pub mod enums;
pub mod grid;
pub mod inbox_message;
pub mod merchant;
pub mod merchant_badge;
pub mod merchant_staff;
pub mod offer;
pub mod order;
pub mod order_event;
pub mod party_member_application;
pub mod points_account;
pub mod points_entry;
pub mod redemption;
pub mod refresh_token;
pub mod role_grant;
pub mod service_category;
pub mod service_record;
pub mod street;
pub mod subscribe_consent;
pub mod user;

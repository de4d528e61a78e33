//! Who people are and what they may do: users, roles, login sessions and Party-member
//! registration (在职党员到社区报到).
pub mod console_login;
pub mod party_members;
pub mod roles;
pub mod sessions;
pub mod tokens;
pub mod users;
pub mod wechat;

pub use roles::{Actor, KnownRoles, Roles, actor_of, load_actor};
pub use users::{find_or_create_user, get_user, public_name};

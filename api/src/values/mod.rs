//! Values parsed once where input arrives, then passed typed: phones, skills, places on the
//! Earth, and China-time days, months, quarters and years.
pub mod china_time;
pub mod geo;
mod month;
mod phone;
mod quarter;
mod skills;

pub use month::Month;
pub use phone::{Phone, mask_phone};
pub use quarter::Quarter;
pub use skills::Skills;

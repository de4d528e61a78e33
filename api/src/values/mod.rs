//! Values parsed once where input arrives, then passed typed: China-time days, months and
//! years. (Phones and skills are parsed in `validate`.)
pub mod china_time;
mod month;

pub use month::Month;

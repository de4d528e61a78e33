//! What a volunteer can do, as labels that orders are matched on.
use crate::{
    error::{AppError, AppResult},
    validate::text,
};

/// A member's skills: at most 10 distinct labels of 1–20 characters without commas, kept in
/// the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skills(Vec<String>);

impl Skills {
    pub const MAX: usize = 10;

    pub fn parse(labels: &[String]) -> AppResult<Self> {
        // Counted before any label is looked at: the de-duplication below is quadratic.
        if labels.len() > Self::MAX {
            return Err(AppError::bad_input(format!("at most {} skills", Self::MAX)));
        }
        let mut skills: Vec<String> = Vec::new();
        for label in labels {
            let label = text("skills", label, 1, 20)?;
            if label.contains(',') {
                return Err(AppError::bad_input("a skill may not contain a comma"));
            }
            if !skills.contains(&label) {
                skills.push(label);
            }
        }
        Ok(Self(skills))
    }

    /// The stored form's skills.
    pub fn stored(stored: &str) -> Vec<String> {
        stored
            .split(',')
            .filter(|label| !label.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The pattern that finds `label` in the stored form.
    pub fn pattern(label: &str) -> String {
        format!("%,{},%", label.trim())
    }
}

impl From<Skills> for String {
    fn from(skills: Skills) -> Self {
        if skills.0.is_empty() {
            String::new()
        } else {
            format!(",{},", skills.0.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skills_are_stored_so_that_one_is_found_exactly() {
        let labels = ["水电".to_owned(), " 法律 ".to_owned(), "水电".to_owned()];
        let stored = String::from(Skills::parse(&labels).unwrap());
        assert_eq!(stored, ",水电,法律,");
        assert_eq!(Skills::stored(&stored), ["水电", "法律"]);
        assert_eq!(Skills::pattern("水电"), "%,水电,%");
        assert!(Skills::parse(&["a,b".to_owned()]).is_err());
        let many: Vec<String> = (0..11).map(|i| i.to_string()).collect();
        assert!(Skills::parse(&many).is_err());
        assert_eq!(String::from(Skills::parse(&[]).unwrap()), "");
    }
}

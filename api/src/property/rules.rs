//! How a property company's quarter is scored: residents' opinions on five dimensions beside
//! the facts its communities' orders tell, combined into one score out of 100 and placed on the
//! red list, the black list or neither (docs/property.md).
use serde::{Deserialize, Serialize};

/// What residents score, 1–5 each, in this order.
pub const DIMENSIONS: [&str; 5] = ["cleanliness", "security", "repairs", "attitude", "fees"];

/// What the orders placed in a company's communities during the quarter tell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Facts {
    pub orders: i64,
    /// Share accepted within their response time.
    pub response_rate: f64,
    /// Share completed.
    pub resolution_rate: f64,
    /// Share of rated orders rated 4 or 5 stars; `None` when none was rated.
    pub satisfaction: Option<f64>,
    /// Share of completed orders the resident reopened.
    pub reopen_rate: f64,
    /// Orders that reached a RED alert.
    pub red_alerts: i64,
}

/// Points off the facts score for each order that went RED.
const PER_RED_ALERT: f64 = 2.0;

impl Facts {
    /// 0–100: response 30 %, resolution 30 %, satisfaction 30 %, not reopened 10 % (without
    /// ratings the others share its weight), less `PER_RED_ALERT` a RED alert; `None` without
    /// orders, when the facts say nothing.
    pub fn score(&self) -> Option<f64> {
        if self.orders == 0 {
            return None;
        }
        let mut parts = vec![
            (0.3, self.response_rate),
            (0.3, self.resolution_rate),
            (0.1, 1.0 - self.reopen_rate),
        ];
        if let Some(satisfaction) = self.satisfaction {
            parts.push((0.3, satisfaction));
        }
        let weight: f64 = parts.iter().map(|(w, _)| w).sum();
        let weighted: f64 = parts.iter().map(|(w, v)| w * v).sum::<f64>() / weight;
        Some((weighted * 100.0 - PER_RED_ALERT * self.red_alerts as f64).clamp(0.0, 100.0))
    }
}

/// The five dimensions' averages over households' scores; `None` without any.
pub fn averages(scores: &[[i32; 5]]) -> Option<[f64; 5]> {
    if scores.is_empty() {
        return None;
    }
    let mut sums = [0.0; 5];
    for household in scores {
        for (sum, score) in sums.iter_mut().zip(household) {
            *sum += f64::from(*score);
        }
    }
    Some(sums.map(|sum| sum / scores.len() as f64))
}

/// 0–100 from the averages: 1 everywhere is 0, 5 everywhere is 100.
pub fn opinion_score(averages: &[f64; 5]) -> f64 {
    let mean = averages.iter().sum::<f64>() / 5.0;
    (mean - 1.0) / 4.0 * 100.0
}

/// Half opinion, half facts; either alone when the other says nothing; 0 with neither.
pub fn combined(opinion: Option<f64>, facts: Option<f64>) -> f64 {
    match (opinion, facts) {
        (Some(o), Some(f)) => (o + f) / 2.0,
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => 0.0,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Red,
    Black,
    Neither,
}

impl Listing {
    pub fn of(score: f64, red_bar: i32, black_bar: i32) -> Self {
        if score >= f64::from(red_bar) {
            Self::Red
        } else if score < f64::from(black_bar) {
            Self::Black
        } else {
            Self::Neither
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Red => "RED",
            Self::Black => "BLACK",
            Self::Neither => "NONE",
        }
    }
}

/// One published rating's line for the digest: `receipt:company:s1,s2,s3,s4,s5`.
pub fn line(receipt: &str, company: uuid::Uuid, scores: &[i32; 5]) -> String {
    let scores: Vec<String> = scores.iter().map(i32::to_string).collect();
    format!("{receipt}:{company}:{}", scores.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            orders: 10,
            response_rate: 1.0,
            resolution_rate: 1.0,
            satisfaction: Some(1.0),
            reopen_rate: 0.0,
            red_alerts: 0,
        }
    }

    #[test]
    fn perfect_facts_score_100_and_red_alerts_take_points_off() {
        assert_eq!(facts().score(), Some(100.0));
        let red = Facts {
            red_alerts: 3,
            ..facts()
        };
        assert_eq!(red.score(), Some(94.0));
        let hopeless = Facts {
            red_alerts: 80,
            ..facts()
        };
        assert_eq!(hopeless.score(), Some(0.0));
    }

    #[test]
    fn without_ratings_the_other_facts_share_satisfactions_weight() {
        let unrated = Facts {
            satisfaction: None,
            response_rate: 0.5,
            ..facts()
        };
        // (0.3 × 0.5 + 0.3 + 0.1) / 0.7
        let score = unrated.score().expect("score");
        assert!((score - 78.571).abs() < 0.01, "{score}");
        assert_eq!(Facts::default().score(), None, "no orders, no facts");
    }

    #[test]
    fn opinions_run_from_0_at_all_ones_to_100_at_all_fives() {
        let all = |n: i32| averages(&[[n; 5], [n; 5]]).expect("averages");
        assert_eq!(opinion_score(&all(1)), 0.0);
        assert_eq!(opinion_score(&all(5)), 100.0);
        assert_eq!(opinion_score(&all(3)), 50.0);
        assert_eq!(averages(&[]), None);
        assert_eq!(
            averages(&[[5, 4, 3, 2, 1], [3, 4, 5, 2, 1]]),
            Some([4.0, 4.0, 4.0, 2.0, 1.0])
        );
    }

    #[test]
    fn the_score_is_half_opinion_half_facts_and_the_bars_list_it() {
        assert_eq!(combined(Some(80.0), Some(60.0)), 70.0);
        assert_eq!(combined(None, Some(60.0)), 60.0);
        assert_eq!(combined(Some(80.0), None), 80.0);
        assert_eq!(Listing::of(85.0, 85, 60), Listing::Red);
        assert_eq!(Listing::of(84.9, 85, 60), Listing::Neither);
        assert_eq!(Listing::of(59.9, 85, 60), Listing::Black);
    }
}

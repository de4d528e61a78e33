//! The periodic jobs, run by one runner: each has a name, a period and metrics of its last
//! success and its failures; `hongfan run-job NAME` runs one once, now. A job's work lives in
//! its domain; this file only says when it runs and what is logged.
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Notify;

use crate::{
    consultations,
    error::{AppResult, causes},
    infra::{
        metrics::{self, Metrics},
        shared_store::SharedStore,
    },
    merchants::redemptions,
    notify::{Dispatcher, delivery, inbox},
    orders::alerts,
    patrols,
    points::{activities, attendance, expiry},
    property,
    state::AppState,
    wishes,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Job {
    /// Files notices for a community's Party members in their inboxes.
    Fanout,
    /// Sends due inbox messages as subscription messages.
    Delivery,
    /// Reminds sign-ups of activities starting soon.
    ActivityReminders,
    /// Moves orders' alert levels as their deadlines pass.
    OrderAlerts,
    /// Closes wishes nobody claimed by their date.
    WishExpiry,
    /// Posts the expiry of points older than the rules keep.
    PointsExpiry,
    /// Expires pending redemptions past their validity.
    RedemptionExpiry,
    /// Closes and seals the topics whose voting time is over.
    TopicClose,
    /// Marks NO_SHOW the sign-ups of activities that ended without a check-in.
    NoShows,
    /// Closes and seals the property rating rounds whose time is over.
    PropertyClose,
    /// Files the day's patrols of the patrol plans due.
    PatrolPlans,
}

impl Job {
    pub const ALL: [Job; 11] = [
        Job::Fanout,
        Job::Delivery,
        Job::ActivityReminders,
        Job::OrderAlerts,
        Job::WishExpiry,
        Job::PointsExpiry,
        Job::RedemptionExpiry,
        Job::TopicClose,
        Job::NoShows,
        Job::PropertyClose,
        Job::PatrolPlans,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Job::Fanout => "inbox-fanout",
            Job::Delivery => "delivery",
            Job::ActivityReminders => "activity-reminders",
            Job::OrderAlerts => "order-alerts",
            Job::WishExpiry => "wish-expiry",
            Job::PointsExpiry => "points-expiry",
            Job::RedemptionExpiry => "redemption-expiry",
            Job::TopicClose => "topic-close",
            Job::NoShows => "activity-no-shows",
            Job::PropertyClose => "property-rating-close",
            Job::PatrolPlans => "patrol-plans",
        }
    }

    pub fn named(name: &str) -> Option<Job> {
        Self::ALL.into_iter().find(|job| job.name() == name)
    }

    fn period(self, delivery: Duration) -> Duration {
        match self {
            Job::Delivery => delivery,
            // The committing instance is woken at once (`woken_by`); the period only
            // catches the fan-outs of an instance that stopped before filing them.
            Job::Fanout => Duration::from_secs(10),
            Job::ActivityReminders | Job::WishExpiry | Job::NoShows | Job::PatrolPlans => {
                Duration::from_secs(600)
            }
            Job::OrderAlerts | Job::RedemptionExpiry | Job::TopicClose | Job::PropertyClose => {
                Duration::from_secs(60)
            }
            // Expiry is keyed once per resident and year: hourly runs catch the new year soon
            // after it turns, and each costs one grouped query when nothing is due.
            Job::PointsExpiry => Duration::from_secs(3600),
        }
    }

    /// Sweeps whose first run waits a period: at start the other instances are running them.
    fn waits_a_period_first(self) -> bool {
        matches!(self, Job::OrderAlerts | Job::WishExpiry | Job::PointsExpiry)
    }

    /// What wakes the job before its period is over: a commit on this instance that left it
    /// work.
    fn woken_by(self, dispatcher: &Dispatcher) -> Option<&Notify> {
        (self == Job::Fanout).then(|| dispatcher.fanouts_left())
    }

    /// Jobs that one instance a period runs, the first to claim it in the shared store: the
    /// alert sweep notifies, so two instances sweeping would notify twice. The others are
    /// compare-and-set updates that every instance may run.
    fn once_per_period(self) -> bool {
        self == Job::OrderAlerts
    }

    /// Runs the job's work once; how many things it changed.
    async fn work(self, state: &AppState) -> AppResult<u64> {
        let now = Utc::now();
        let db = &state.db;
        Ok(match self {
            Job::Fanout => inbox::fan_out(db).await?,
            Job::Delivery => delivery::deliver_due(db, &state.delivery, now).await? as u64,
            Job::ActivityReminders => activities::remind_upcoming(db, now).await? as u64,
            Job::OrderAlerts => alerts::sweep(db, &state.dispatcher, now).await? as u64,
            Job::WishExpiry => wishes::close_expired(db, now).await?,
            Job::PointsExpiry => expiry::expire_due(db, now).await?,
            Job::RedemptionExpiry => {
                let expired = redemptions::expire_due(db, now).await?;
                state.dispatcher.settle(expired).await as u64
            }
            Job::TopicClose => consultations::close_due(db, now).await?,
            Job::NoShows => attendance::mark_no_shows(db, now).await?,
            Job::PropertyClose => property::close_due(db, &state.dispatcher, now).await?,
            Job::PatrolPlans => patrols::plans::file_due(db, now).await?,
        })
    }
}

/// Runs the jobs with the application's state and counts their outcomes.
#[derive(Clone)]
pub struct Runner {
    pub state: AppState,
    pub metrics: Metrics,
    pub delivery_interval: Duration,
}

impl Runner {
    /// Runs `job` once now, logging a failure with its causes down to the root.
    pub async fn run(&self, job: Job) -> AppResult<u64> {
        match metrics::as_job(job.work(&self.state)).await {
            Ok(count) => {
                self.metrics.job_succeeded(job.name(), Utc::now());
                if count > 0 {
                    tracing::info!(job = job.name(), count, "job done");
                }
                Ok(count)
            }
            Err(error) => {
                self.metrics.job_failed(job.name());
                tracing::warn!(job = job.name(), error = %causes(&error), "job failed");
                Err(error)
            }
        }
    }

    /// Starts every job on its period, for as long as the process runs.
    pub fn spawn_all(&self) {
        for job in Job::ALL {
            self.metrics.job_failed_never(job.name());
            tokio::spawn(self.clone().every_period(job));
        }
    }

    async fn every_period(self, job: Job) {
        let period = job.period(self.delivery_interval);
        let first = tokio::time::Instant::now()
            + if job.waits_a_period_first() {
                period
            } else {
                Duration::ZERO
            };
        let mut ticks = tokio::time::interval_at(first, period);
        let dispatcher = self.state.dispatcher.clone();
        loop {
            match job.woken_by(&dispatcher) {
                Some(work_left) => tokio::select! {
                    _ = ticks.tick() => {}
                    () = work_left.notified() => {}
                },
                None => {
                    ticks.tick().await;
                }
            }
            if job.once_per_period() && !claim_period(&self.state.store, job, period).await {
                continue;
            }
            // Logged and counted in `run`; the next period tries again.
            let _ = self.run(job).await;
        }
    }
}

/// Whether this instance runs `job` this period: the first to claim it does. A claim lapses a
/// little before the next tick, so that ticks drifting apart across instances never leave a
/// period out. When the store cannot be asked every instance runs it.
async fn claim_period(store: &SharedStore, job: Job, period: Duration) -> bool {
    match store
        .hit(&format!("jobs:{}", job.name()), period.mul_f64(0.9))
        .await
    {
        Ok(claims) => claims == 1,
        Err(error) => {
            tracing::warn!(
                job = job.name(),
                error = %causes(error.as_ref()),
                "shared store unavailable; running anyway"
            );
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_is_found_by_its_name() {
        for job in Job::ALL {
            assert_eq!(Job::named(job.name()), Some(job));
        }
        assert_eq!(Job::named("points"), None);
    }

    #[tokio::test]
    async fn one_instance_claims_each_period() {
        let store = SharedStore::in_memory();
        let period = Duration::from_millis(200);
        assert!(claim_period(&store, Job::OrderAlerts, period).await);
        assert!(
            !claim_period(&store, Job::OrderAlerts, period).await,
            "claimed already"
        );
        tokio::time::sleep(period).await;
        assert!(
            claim_period(&store, Job::OrderAlerts, period).await,
            "the next period"
        );
    }
}

//! What the patrols of an area came to: per grid and month (of the patrol's window, China
//! time), the patrols scheduled, the points due and signed off, the points missed (due on a
//! patrol whose window is over, never signed off), sign-offs flagged off site, and findings
//! turned into orders. For `governanceStats` and the patrol CSV.
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use entity::{grid, patrol_finding, patrol_signoff, patrol_task, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::point_ids_of;
use crate::{
    error::AppResult,
    pagination::{Span, export_page},
    values::Month,
};

/// One patrol's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub patrols: i64,
    pub points_due: i64,
    pub points_signed_off: i64,
    pub points_missed: i64,
    pub off_site: i64,
    pub findings: i64,
}

impl Figures {
    fn add(&mut self, other: Figures) {
        self.patrols += other.patrols;
        self.points_due += other.points_due;
        self.points_signed_off += other.points_signed_off;
        self.points_missed += other.points_missed;
        self.off_site += other.off_site;
        self.findings += other.findings;
    }

    /// Signed-off points of those due; `None` with none due.
    pub fn coverage(&self) -> Option<f64> {
        (self.points_due > 0).then(|| self.points_signed_off as f64 / self.points_due as f64)
    }
}

/// Each task's figures, from its sign-offs and findings (two queries for any number of tasks).
async fn of_tasks(
    db: &impl ConnectionTrait,
    tasks: &[patrol_task::Model],
    now: DateTime<Utc>,
) -> AppResult<HashMap<Uuid, Figures>> {
    let ids: Vec<Uuid> = tasks.iter().map(|t| t.id).collect();
    let mut signed: HashMap<Uuid, (i64, i64)> = HashMap::new();
    if !ids.is_empty() {
        let rows: Vec<(Uuid, Option<String>)> = patrol_signoff::Entity::find()
            .select_only()
            .column(patrol_signoff::Column::TaskId)
            .column(patrol_signoff::Column::OffSiteReason)
            .filter(patrol_signoff::Column::TaskId.is_in(ids.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        for (task, reason) in rows {
            let entry = signed.entry(task).or_default();
            entry.0 += 1;
            entry.1 += i64::from(reason.is_some());
        }
    }
    let mut found: HashMap<Uuid, i64> = HashMap::new();
    if !ids.is_empty() {
        let rows: Vec<Uuid> = patrol_finding::Entity::find()
            .select_only()
            .column(patrol_finding::Column::TaskId)
            .filter(patrol_finding::Column::TaskId.is_in(ids))
            .into_tuple()
            .all(db)
            .await?;
        for task in rows {
            *found.entry(task).or_default() += 1;
        }
    }
    Ok(tasks
        .iter()
        .map(|task| {
            let due = point_ids_of(task).len() as i64;
            let (signed_off, off_site) = signed.get(&task.id).copied().unwrap_or_default();
            let over = task.window_ends_at <= now;
            (
                task.id,
                Figures {
                    patrols: 1,
                    points_due: due,
                    points_signed_off: signed_off,
                    points_missed: if over { (due - signed_off).max(0) } else { 0 },
                    off_site,
                    findings: found.get(&task.id).copied().unwrap_or_default(),
                },
            )
        })
        .collect())
}

/// One grid's patrols in one month.
pub struct GridMonth {
    pub grid: grid::Model,
    pub month: Month,
    pub figures: Figures,
}

/// Per grid and month of the window, of the patrols whose window starts in `span`, by grid
/// then month.
pub async fn by_grid_and_month(
    db: &impl ConnectionTrait,
    span: &Span,
    now: DateTime<Utc>,
) -> AppResult<Vec<GridMonth>> {
    let tasks = patrol_task::Entity::find()
        .filter(patrol_task::Column::CommunityId.is_in(span.communities.iter().copied()))
        .filter(patrol_task::Column::WindowStartsAt.gte(span.from))
        .filter(patrol_task::Column::WindowStartsAt.lt(span.to))
        .all(db)
        .await?;
    let figures = of_tasks(db, &tasks, now).await?;
    let mut grouped: BTreeMap<(Uuid, Month), Figures> = BTreeMap::new();
    for task in &tasks {
        grouped
            .entry((task.grid_id, Month::of(task.window_starts_at)))
            .or_default()
            .add(figures[&task.id]);
    }
    let grids: HashMap<Uuid, grid::Model> = grid::Entity::find()
        .filter(grid::Column::Id.is_in(grouped.keys().map(|(grid, _)| *grid)))
        .all(db)
        .await?
        .into_iter()
        .map(|g| (g.id, g))
        .collect();
    Ok(grouped
        .into_iter()
        .filter_map(|((grid, month), figures)| {
            Some(GridMonth {
                grid: grids.get(&grid)?.clone(),
                month,
                figures,
            })
        })
        .collect())
}

/// A patrol as the CSV lists it.
pub struct Exported {
    pub task: patrol_task::Model,
    pub figures: Figures,
    pub worker: Option<user::Model>,
    pub grid: Option<String>,
}

/// A page of the patrols whose window starts in `span` (the patrol CSV), each with its figures,
/// its worker and its grid's name.
pub async fn exported(
    db: &impl ConnectionTrait,
    span: &Span,
    after: Option<Uuid>,
    now: DateTime<Utc>,
) -> AppResult<Vec<Exported>> {
    let select = patrol_task::Entity::find()
        .filter(patrol_task::Column::CommunityId.is_in(span.communities.iter().copied()))
        .filter(patrol_task::Column::WindowStartsAt.gte(span.from))
        .filter(patrol_task::Column::WindowStartsAt.lt(span.to));
    let tasks = export_page(db, select, patrol_task::Column::Id, after).await?;
    let figures = of_tasks(db, &tasks, now).await?;
    let workers =
        crate::identity::users::by_ids(db, tasks.iter().map(|t| t.worker_id).collect::<Vec<_>>())
            .await?;
    let grids: HashMap<Uuid, String> = grid::Entity::find()
        .select_only()
        .column(grid::Column::Id)
        .column(grid::Column::Name)
        .filter(grid::Column::Id.is_in(tasks.iter().map(|t| t.grid_id)))
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(tasks
        .into_iter()
        .map(|task| Exported {
            figures: figures[&task.id],
            worker: workers.get(&task.worker_id).cloned(),
            grid: grids.get(&task.grid_id).cloned(),
            task,
        })
        .collect())
}

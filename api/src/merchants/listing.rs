//! Finding merchants: ACTIVE ones, newest or nearest first, cached until one changes.

use entity::{
    enums::{Badge, MerchantStatus},
    merchant, merchant_badge,
};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, Query},
};
use uuid::Uuid;

use crate::values::geo::{self, Point};
use crate::{
    error::{AppError, AppResult},
    infra::{
        cache::{self, Namespace},
        shared_store::SharedStore,
    },
    pagination::{Page, PageRequest, fetch_page},
    validate,
};

/// Most merchants a "near me" search ranks; a neighbourhood has far fewer.
const MAX_NEARBY: u64 = 2_000;
const MAX_RADIUS_METERS: f64 = 50_000.0;

#[derive(Debug, Default, Clone)]
pub struct MerchantFilter {
    pub community_id: Option<Uuid>,
    pub category: Option<String>,
    pub badge: Option<Badge>,
    pub near: Option<(Point, f64)>,
    pub search: Option<String>,
}

/// `LIKE` pattern matching `text` anywhere, with its wildcards taken literally.
fn contains_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// ACTIVE merchants matching the filter: newest first, or nearest first with `near`. Every
/// resident's app reads these, so pages are cached until a merchant changes.
pub async fn list(
    db: &DatabaseConnection,
    store: &SharedStore,
    filter: MerchantFilter,
    page: PageRequest,
) -> AppResult<Page<(merchant::Model, Option<f64>)>> {
    let key = (&filter, page);
    cache::read_through(store, Namespace::Merchants, &key, || {
        load_list(db, filter.clone(), page)
    })
    .await
}

async fn load_list(
    db: &DatabaseConnection,
    filter: MerchantFilter,
    page: PageRequest,
) -> AppResult<Page<(merchant::Model, Option<f64>)>> {
    let mut condition = Condition::all().add(merchant::Column::Status.eq(MerchantStatus::Active));
    if let Some(community) = filter.community_id {
        condition = condition.add(merchant::Column::CommunityId.eq(community));
    }
    if let Some(category) = validate::optional_text("category", filter.category.as_deref(), 30)? {
        condition = condition.add(merchant::Column::Category.eq(category));
    }
    if let Some(badge) = filter.badge {
        let with_badge = Query::select()
            .column(merchant_badge::Column::MerchantId)
            .from(merchant_badge::Entity)
            .and_where(merchant_badge::Column::Badge.eq(badge))
            .to_owned();
        condition = condition.add(merchant::Column::Id.in_subquery(with_badge));
    }
    if let Some(search) = validate::optional_text("search", filter.search.as_deref(), 50)? {
        let pattern = contains_pattern(&search);
        condition = condition.add(
            Condition::any()
                .add(
                    Expr::col(merchant::Column::Name)
                        .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\')),
                )
                .add(
                    Expr::col(merchant::Column::Description)
                        .like(sea_orm::sea_query::LikeExpr::new(&pattern).escape('\\')),
                ),
        );
    }
    let Some((center, radius)) = filter.near else {
        let select = merchant::Entity::find().filter(condition);
        return Ok(fetch_page(db, select, merchant::Column::Id, page)
            .await?
            .map(|m| (m, None)));
    };
    if !center.is_valid() || !(1.0..=MAX_RADIUS_METERS).contains(&radius) {
        return Err(AppError::bad_input(format!(
            "near needs a valid latitude/longitude and radiusMeters between 1 and {MAX_RADIUS_METERS}"
        )));
    }
    let ((lat_min, lat_max), (lon_min, lon_max)) = geo::bounding_box(center, radius);
    let candidates = merchant::Entity::find()
        .filter(condition)
        .filter(merchant::Column::Latitude.between(lat_min, lat_max))
        .filter(merchant::Column::Longitude.between(lon_min, lon_max))
        .limit(MAX_NEARBY)
        .all(db)
        .await?;
    let mut ranked: Vec<(merchant::Model, f64)> = candidates
        .into_iter()
        .map(|m| {
            let d = geo::distance_meters(
                center,
                Point {
                    latitude: m.latitude,
                    longitude: m.longitude,
                },
            );
            (m, d)
        })
        .filter(|(_, d)| *d <= radius)
        .collect();
    ranked.sort_by(|(a, da), (b, db)| da.total_cmp(db).then(a.id.cmp(&b.id)));
    // The cursor is the last merchant seen; the order is stable for the same search.
    let start = match page.after {
        Some(after) => ranked
            .iter()
            .position(|(m, _)| m.id == after)
            .map_or(ranked.len(), |i| i + 1),
        None => 0,
    };
    let rest: Vec<_> = ranked.into_iter().skip(start).collect();
    let has_next_page = rest.len() as u64 > page.first;
    Ok(Page {
        items: rest
            .into_iter()
            .take(page.first as usize)
            .map(|(m, d)| (m, Some(d)))
            .collect(),
        has_next_page,
    })
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn search_wildcards_are_literal() {
        assert_eq!(contains_pattern("50%_off"), "%50\\%\\_off%");
    }
}

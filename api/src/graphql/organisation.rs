use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result};
use chrono::{DateTime, Utc};
use entity::{community, district, grid, street};

use super::{actor, identity::User, load_community, load_user, parse_id, settle, state, to_id};
use crate::{
    infra::cache::{self, Namespace},
    organisation::{self, CommunityChanges, GridChanges, NewCommunity},
    values::geo::Point,
};

pub struct Community(pub community::Model);

#[Object]
impl Community {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Points earned per hour of confirmed volunteer time.
    async fn points_per_hour(&self) -> i32 {
        self.0.points_per_hour
    }
    async fn address(&self) -> &str {
        &self.0.address
    }
    async fn latitude(&self) -> Option<f64> {
        self.0.latitude
    }
    async fn longitude(&self) -> Option<f64> {
        self.0.longitude
    }
    /// How long an order here may wait for acceptance; null: each category's own time.
    async fn response_minutes(&self) -> Option<i32> {
        self.0.response_minutes
    }
    /// When it was archived: it takes no new residents or orders.
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.0.archived_at
    }
    async fn street(&self, ctx: &Context<'_>) -> Result<Street> {
        Ok(Street(
            organisation::get_street(&state(ctx)?.db, self.0.street_id).await?,
        ))
    }
    /// The grids (网格) the community is divided into.
    #[graphql(complexity = "20 * child_complexity")]
    async fn grids(&self, ctx: &Context<'_>) -> Result<Vec<Grid>> {
        let grids = organisation::grids_of(&state(ctx)?.db, self.0.id).await?;
        Ok(grids.into_iter().map(Grid).collect())
    }
}

pub struct Street(pub street::Model);

#[Object]
impl Street {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn district(&self, ctx: &Context<'_>) -> Result<District> {
        Ok(District(
            organisation::get_district(&state(ctx)?.db, self.0.district_id).await?,
        ))
    }
    /// Archived ones included. Costed as a street's 30.
    #[graphql(complexity = "30 * child_complexity")]
    async fn communities(&self, ctx: &Context<'_>) -> Result<Vec<Community>> {
        let list = organisation::communities_of(&state(ctx)?.db, self.0.id).await?;
        Ok(list.into_iter().map(Community).collect())
    }
}

pub struct District(pub district::Model);

#[Object]
impl District {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Costed as a district's 20.
    #[graphql(complexity = "20 * child_complexity")]
    async fn streets(&self, ctx: &Context<'_>) -> Result<Vec<Street>> {
        let list = organisation::streets_of(&state(ctx)?.db, self.0.id).await?;
        Ok(list.into_iter().map(Street).collect())
    }
}

pub struct Grid(pub grid::Model);

#[Object]
impl Grid {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What the grid covers (buildings, streets).
    async fn boundary(&self) -> &str {
        &self.0.boundary
    }
    async fn community(&self, ctx: &Context<'_>) -> Result<Community> {
        Ok(Community(load_community(ctx, self.0.community_id).await?))
    }
    /// The grid worker (网格员) who looks after it.
    async fn worker(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.worker_id else {
            return Ok(None);
        };
        Ok(Some(User::from(load_user(ctx, id).await?)))
    }
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.0.archived_at
    }
}

#[derive(Default)]
pub struct OrganisationQuery;

#[Object]
impl OrganisationQuery {
    /// Every community, by name; public so that new users can pick theirs. Costed as a
    /// district's 100.
    #[graphql(complexity = "100 * child_complexity")]
    async fn communities(&self, ctx: &Context<'_>) -> Result<Vec<Community>> {
        let state = state(ctx)?;
        let list = cache::read_through(&state.store, Namespace::Communities, &"all", || {
            organisation::communities(&state.db)
        })
        .await?;
        Ok(list.into_iter().map(Community).collect())
    }

    async fn community(&self, ctx: &Context<'_>, id: ID) -> Result<Community> {
        let id = parse_id("id", &id)?;
        Ok(Community(load_community(ctx, id).await?))
    }

    /// The administrative tree from the top. Costed as 10 districts.
    #[graphql(complexity = "10 * child_complexity")]
    async fn districts(&self, ctx: &Context<'_>) -> Result<Vec<District>> {
        let list = organisation::districts(&state(ctx)?.db).await?;
        Ok(list.into_iter().map(District).collect())
    }
}

#[derive(InputObject)]
pub struct CreateCommunityInput {
    street_id: ID,
    name: String,
    #[graphql(default)]
    address: String,
    latitude: Option<f64>,
    longitude: Option<f64>,
    /// How long any order here may wait for acceptance (10 min to 14 days); null: each
    /// category's own time.
    response_minutes: Option<i32>,
}

/// Absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateCommunityInput {
    name: Option<String>,
    address: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    /// null: back to each category's own time.
    response_minutes: MaybeUndefined<i32>,
    /// true archives it (no new residents or orders), false restores it.
    archived: Option<bool>,
}

/// Absent fields stay as they are.
#[derive(InputObject)]
pub struct UpdateGridInput {
    name: Option<String>,
    boundary: Option<String>,
    /// The grid worker (网格员); null leaves the grid without one.
    worker_id: MaybeUndefined<ID>,
    archived: Option<bool>,
}

fn centre(
    latitude: Option<f64>,
    longitude: Option<f64>,
) -> Result<Option<Point>, crate::error::AppError> {
    match (latitude, longitude) {
        (Some(latitude), Some(longitude)) => Ok(Some(Point {
            latitude,
            longitude,
        })),
        (None, None) => Ok(None),
        _ => Err(crate::error::AppError::bad_input(
            "give latitude and longitude together",
        )),
    }
}

#[derive(Default)]
pub struct OrganisationMutation;

#[Object]
impl OrganisationMutation {
    /// ADMIN.
    async fn create_district(&self, ctx: &Context<'_>, name: String) -> Result<District> {
        let actor = actor(ctx).await?;
        let district = organisation::create_district(&state(ctx)?.db, actor, &name).await?;
        Ok(District(district))
    }

    /// ADMIN.
    async fn create_street(
        &self,
        ctx: &Context<'_>,
        district_id: ID,
        name: String,
    ) -> Result<Street> {
        let actor = actor(ctx).await?;
        let district_id = parse_id("districtId", &district_id)?;
        let street =
            organisation::create_street(&state(ctx)?.db, actor, district_id, &name).await?;
        Ok(Street(street))
    }

    /// ADMIN.
    async fn create_community(
        &self,
        ctx: &Context<'_>,
        input: CreateCommunityInput,
    ) -> Result<Community> {
        let actor = actor(ctx).await?;
        let new = NewCommunity {
            street_id: parse_id("streetId", &input.street_id)?,
            name: input.name,
            address: input.address,
            centre: centre(input.latitude, input.longitude)?,
            response_minutes: input.response_minutes,
        };
        let community = organisation::create_community(&state(ctx)?.db, actor, new).await?;
        Ok(Community(settle(ctx, community).await?))
    }

    /// ADMIN.
    async fn update_community(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateCommunityInput,
    ) -> Result<Community> {
        let actor = actor(ctx).await?;
        let id = parse_id("id", &id)?;
        let changes = CommunityChanges {
            name: input.name,
            address: input.address,
            centre: centre(input.latitude, input.longitude)?,
            response_minutes: input.response_minutes.into(),
            archived: input.archived,
        };
        let community = organisation::update_community(&state(ctx)?.db, actor, id, changes).await?;
        Ok(Community(settle(ctx, community).await?))
    }

    /// ADMIN, or STAFF of the community.
    async fn create_grid(
        &self,
        ctx: &Context<'_>,
        community_id: ID,
        name: String,
        #[graphql(default)] boundary: String,
    ) -> Result<Grid> {
        let actor = actor(ctx).await?;
        let community_id = parse_id("communityId", &community_id)?;
        let grid =
            organisation::create_grid(&state(ctx)?.db, actor, community_id, &name, &boundary)
                .await?;
        Ok(Grid(grid))
    }

    /// ADMIN, or STAFF of the grid's community. Naming a worker grants them GRID_WORKER in
    /// the community; it ends when they look after no grid there.
    async fn update_grid(&self, ctx: &Context<'_>, id: ID, input: UpdateGridInput) -> Result<Grid> {
        let actor = actor(ctx).await?;
        let id = parse_id("id", &id)?;
        let worker_id = Option::<Option<ID>>::from(input.worker_id)
            .map(|worker| worker.map(|id| parse_id("workerId", &id)).transpose())
            .transpose()?;
        let changes = GridChanges {
            name: input.name,
            boundary: input.boundary,
            worker_id,
            archived: input.archived,
        };
        let grid = organisation::update_grid(&state(ctx)?.db, actor, id, changes).await?;
        Ok(Grid(settle(ctx, grid).await?))
    }
}

use async_graphql::{Context, ID, Object, Result};
use entity::{community, district, grid, street};

use super::{load_community, parse_id, state, to_id};
use crate::{
    infra::cache::{self, Namespace},
    organisation,
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

pub struct Street(street::Model);

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
}

pub struct District(district::Model);

#[Object]
impl District {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
}

pub struct Grid(grid::Model);

#[Object]
impl Grid {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
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
}

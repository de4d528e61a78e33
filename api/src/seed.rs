//! Demo data for trying the product: one district and street, two communities with grids,
//! departments to escalate to, the service categories and one account per role. README lists the demo openids.
use entity::{community, enums::Role};
use sea_orm::{DatabaseConnection, EntityTrait, PaginatorTrait};

use crate::{
    content::ContentGuard,
    identity::{
        self, roles,
        users::{self, ProfileInput},
    },
    infra::db::begin_write,
    notify::{Committed, DomainEvent, Events},
    orders::categories::{self, CategoryInput},
    organisation::{
        self, NewCommunity,
        departments::{self, Seat},
    },
    values::geo::Point,
};

/// (code, name, response time in minutes)
pub const CATEGORIES: &[(&str, &str, i32)] = &[
    ("REPAIR", "维修", 4 * 60),
    ("HEALTH_CHECK", "健康体检", 24 * 60),
    ("LEGAL_ADVICE", "法律咨询", 24 * 60),
    ("ELDER_CARE", "助老服务", 12 * 60),
    ("CLEANING", "清洁", 24 * 60),
    ("MICRO_WISH", "微心愿", 3 * 24 * 60),
    ("OTHER", "其他", 24 * 60),
];

pub struct DemoAccount {
    pub openid: &'static str,
    pub name: &'static str,
    pub phone: &'static str,
    pub role: Option<Role>,
}

pub const DEMO_ACCOUNTS: &[DemoAccount] = &[
    DemoAccount {
        openid: "demo-resident",
        name: "张秀兰",
        phone: "13800000001",
        // Confirmed by the community as living there, so its STAFF may credit her.
        role: Some(Role::Resident),
    },
    DemoAccount {
        openid: "demo-member",
        name: "李建国",
        phone: "13800000002",
        role: Some(Role::PartyMember),
    },
    DemoAccount {
        openid: "demo-member-2",
        name: "王红梅",
        phone: "13800000003",
        role: Some(Role::PartyMember),
    },
    DemoAccount {
        openid: "demo-staff",
        name: "赵网格",
        phone: "13800000004",
        role: Some(Role::Staff),
    },
    DemoAccount {
        openid: "demo-admin",
        name: "街道管理员",
        phone: "13800000005",
        role: Some(Role::Admin),
    },
    DemoAccount {
        openid: "demo-street",
        name: "孙街道",
        phone: "13800000006",
        role: Some(Role::StreetStaff),
    },
    DemoAccount {
        openid: "demo-department",
        name: "周城管",
        phone: "13800000007",
        role: Some(Role::DepartmentStaff),
    },
];

/// Loads the demo data unless the database already has communities. Returns whether it did.
pub async fn demo(db: &DatabaseConnection) -> anyhow::Result<Committed<bool>> {
    let mut events = Events::default();
    if community::Entity::find().count(db).await? > 0 {
        return Ok(events.committed(false));
    }
    let txn = begin_write(db).await?;
    let district = organisation::insert_district(&txn, "长清区").await?;
    let street = organisation::insert_street(&txn, district.id, "文昌街道").await?;
    let mut communities = Vec::new();
    for (name, latitude, longitude) in [
        ("凤凰社区", 36.5536, 116.7519),
        ("清河社区", 36.5601, 116.7432),
    ] {
        let community = organisation::insert_community(
            &txn,
            NewCommunity {
                street_id: street.id,
                name: name.to_owned(),
                address: format!("长清区文昌街道{name}居委会"),
                centre: Some(Point {
                    latitude,
                    longitude,
                }),
                response_minutes: None,
            },
        )
        .await?;
        for grid_name in ["第一网格", "第二网格", "第三网格"] {
            organisation::insert_grid(&txn, community.id, grid_name, "").await?;
        }
        communities.push(community.id);
        events.push(DomainEvent::CommunityChanged {
            community_id: community.id,
        });
    }
    for (code, name, response_minutes) in CATEGORIES {
        categories::insert(
            &txn,
            CategoryInput {
                code: (*code).to_owned(),
                name: (*name).to_owned(),
                response_minutes: *response_minutes,
                completion_minutes: None,
            },
        )
        .await?;
    }
    let street_department =
        departments::insert(&txn, Seat::Street(street.id), "文昌街道城管中队").await?;
    departments::insert(&txn, Seat::District(district.id), "长清区住建局").await?;
    departments::insert(&txn, Seat::District(district.id), "长清供电中心").await?;
    txn.commit().await?;

    let home = communities[0];
    for account in DEMO_ACCOUNTS {
        let scope = match account.role {
            Some(Role::Admin) => None,
            Some(Role::StreetStaff) => Some(street.id),
            Some(Role::DepartmentStaff) => Some(street_department.id),
            _ => Some(home),
        };
        let user = match account.role {
            Some(role) => {
                let granted = roles::grant_role_by_openid(db, account.openid, role, scope).await?;
                events.absorb(granted)
            }
            None => {
                let txn = begin_write(db).await?;
                let user = identity::find_or_create_user(&txn, account.openid).await?;
                txn.commit().await?;
                user
            }
        };
        let actor = identity::load_actor(db, user.id).await?;
        // The demo's own names: nobody wrote them for others to see.
        let profile = users::update_profile(
            db,
            &ContentGuard::Off,
            &actor,
            ProfileInput {
                name: Some(account.name.to_owned()),
                phone: Some(account.phone.to_owned()),
                community_id: Some(home),
                grid_id: None,
                address: Some("凤凰社区3号楼2单元".to_owned()),
                show_on_leaderboard: None,
                skills: None,
            },
        )
        .await?;
        events.absorb(profile);
    }
    Ok(events.committed(true))
}

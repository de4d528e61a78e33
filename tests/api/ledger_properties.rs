//! Property: after any sequence of ledger postings, the balance equals the sum of the entries
//! and is never negative; a refused posting changes nothing. When the points expire two years
//! on, exactly what is left expires, once, and the same holds.
use chrono::{Duration, Utc};
use entity::{
    community, district,
    enums::{EntryKind, PointsExpiry},
    points_entry, points_policy, street, user,
};
use hongfan::{
    infra::db,
    points::{
        expiry::expire_due,
        ledger::{self, Posting},
    },
};
use proptest::prelude::*;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait,
};
use uuid::Uuid;

/// A community whose points expire at the end of the next year, with `user` living in it.
async fn expiring_community(conn: &DatabaseConnection, user: user::Model) {
    let now = Utc::now();
    let district = district::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set("区".into()),
    }
    .insert(conn)
    .await
    .expect("district");
    let street = street::ActiveModel {
        id: Set(Uuid::now_v7()),
        district_id: Set(district.id),
        name: Set("街道".into()),
    }
    .insert(conn)
    .await
    .expect("street");
    let community = community::ActiveModel {
        id: Set(Uuid::now_v7()),
        street_id: Set(street.id),
        name: Set("社区".into()),
        created_at: Set(now),
        points_per_hour: Set(10),
        address: Set("地址".into()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .expect("community");
    points_policy::ActiveModel {
        community_id: Set(community.id),
        gift_monthly_cap: Set(0),
        expiry: Set(PointsExpiry::EndOfNextYear),
        updated_by: Set(user.id),
        updated_at: Set(now),
    }
    .insert(conn)
    .await
    .expect("policy");
    let mut user: user::ActiveModel = user.into();
    user.community_id = Set(Some(community.id));
    user.update(conn).await.expect("user");
}

async fn check_invariants(conn: &DatabaseConnection, user_id: Uuid) -> Result<i64, TestCaseError> {
    let balance = ledger::balance(conn, user_id).await.expect("balance");
    let entries = points_entry::Entity::find()
        .filter(points_entry::Column::UserId.eq(user_id))
        .all(conn)
        .await
        .expect("entries");
    prop_assert_eq!(balance, entries.iter().map(|e| e.amount).sum::<i64>());
    prop_assert!(balance >= 0);
    prop_assert!(entries.iter().all(|e| e.balance_after >= 0));
    Ok(balance)
}

async fn run(amounts: Vec<i64>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("ledger.db").display()
    );
    let conn = db::connect(&url).await.expect("connect");
    db::migrate(&conn).await.expect("migrate");
    let txn = conn.begin().await.expect("begin");
    let user = hongfan::identity::find_or_create_user(&txn, "ledger-user")
        .await
        .expect("user");
    txn.commit().await.expect("commit");
    expiring_community(&conn, user.clone()).await;

    for amount in amounts {
        let before = ledger::balance(&conn, user.id).await.expect("balance");
        let txn = db::begin_write(&conn).await.expect("begin");
        let posting = Posting {
            user_id: user.id,
            kind: if amount >= 0 {
                EntryKind::Adjust
            } else {
                EntryKind::Spend
            },
            amount,
            reference: None,
            rate: None,
            reason: None,
            idempotency_key: None,
            created_by: None,
        };
        match ledger::post(&txn, posting).await {
            Ok(_) => txn.commit().await.expect("commit"),
            Err(_) => {
                prop_assert!(
                    before + amount < 0,
                    "a posting within the balance was refused"
                );
                drop(txn);
            }
        }
        check_invariants(&conn, user.id).await?;
    }
    // Everything was earned this year: two years on, all that is left expires, once.
    let left = check_invariants(&conn, user.id).await?;
    let later = Utc::now() + Duration::days(2 * 366);
    for run in 0..2 {
        let expired = expire_due(&conn, later).await.expect("expiry");
        prop_assert_eq!(expired, u64::from(run == 0 && left > 0));
        prop_assert_eq!(check_invariants(&conn, user.id).await?, 0);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn balance_is_the_sum_of_entries_and_never_negative(amounts in prop::collection::vec(-60i64..60, 1..25)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(run(amounts))?;
    }
}

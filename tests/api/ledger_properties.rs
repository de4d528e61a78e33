//! Property: after any sequence of ledger postings, the balance equals the sum of the entries
//! and is never negative; a refused posting changes nothing.
use entity::{enums::EntryKind, points_entry};
use hongfan::{
    infra::db,
    points::ledger::{self, Posting},
};
use proptest::prelude::*;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};

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
        let balance = ledger::balance(&conn, user.id).await.expect("balance");
        let entries = points_entry::Entity::find()
            .filter(points_entry::Column::UserId.eq(user.id))
            .all(&conn)
            .await
            .expect("entries");
        prop_assert_eq!(balance, entries.iter().map(|e| e.amount).sum::<i64>());
        prop_assert!(balance >= 0);
        prop_assert!(entries.iter().all(|e| e.balance_after >= 0));
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

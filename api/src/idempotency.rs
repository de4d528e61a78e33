//! Keyed mutations (redeem, adjust, gift, reverse): a request sent again with the same key and
//! the same payload gets the first result and changes nothing; the same key with another
//! payload is refused (BAD_USER_INPUT), never silently answered with the first result.
use crate::error::{AppError, AppResult};

/// Runs `run` unless `key` was used before. `find` looks a key's result up, `payload_of` says
/// what a result was for, and `payload` is what this request asks for. A `run` that lost a
/// race to a concurrent request with the same key (CONFLICT from a unique constraint) is
/// answered like a retry. `run` is a future: nothing of it happens unless it is needed.
pub async fn replay_or_run<'k, T, P, Found>(
    key: Option<&'k str>,
    find: impl Fn(&'k str) -> Found,
    payload_of: impl Fn(&T) -> P,
    payload: P,
    run: impl Future<Output = AppResult<T>>,
) -> AppResult<T>
where
    P: PartialEq,
    Found: Future<Output = AppResult<Option<T>>>,
{
    let earlier = match key {
        Some(key) => find(key).await?,
        None => None,
    };
    replay_or_run_after(key, earlier, find, payload_of, payload, run).await
}

/// `replay_or_run` for a caller that looked `key` up already, with its other reads: `earlier`
/// is what it found there.
pub async fn replay_or_run_after<'k, T, P, Found>(
    key: Option<&'k str>,
    earlier: Option<T>,
    find: impl Fn(&'k str) -> Found,
    payload_of: impl Fn(&T) -> P,
    payload: P,
    run: impl Future<Output = AppResult<T>>,
) -> AppResult<T>
where
    P: PartialEq,
    Found: Future<Output = AppResult<Option<T>>>,
{
    let replay = |earlier: T| {
        if payload_of(&earlier) == payload {
            Ok(earlier)
        } else {
            Err(AppError::bad_input(
                "this idempotencyKey was already used for a different request; send a new key \
                 with a new request",
            ))
        }
    };
    let Some(key) = key else {
        return run.await;
    };
    if let Some(earlier) = earlier {
        return replay(earlier);
    }
    match run.await {
        Err(AppError::Conflict(message)) => match find(key).await? {
            Some(earlier) => replay(earlier),
            None => Err(AppError::Conflict(message)),
        },
        // A run can meet its key inside its own transaction too, and answer with that.
        Ok(result) => replay(result),
        Err(error) => Err(error),
    }
}

//! The accounts' lists as training data: each account becomes a user of the ratings store, with
//! an id in a range of its own ([`ACCOUNT_USER_IDS`], above every MyAnimeList user id of the
//! Kaggle files) so dataset users and accounts never mix. Ids are given in the order of the
//! accounts' ids, so they are not stable across trainings: accounts are served through their
//! stored list, never by this id.

use std::ops::RangeFrom;

use anirec_data::{Catalogue, NewEntry, NewUser, UserId};

use crate::account::AccountId;
use crate::list::ListEntry;

/// The user ids of accounts in a training store.
pub const ACCOUNT_USER_IDS: RangeFrom<u32> = 3_000_000_000..;

/// The accounts' entries as new users of a ratings store, and how many entries named anime the
/// catalogue lacks (left out). `entries` is by account then anime, as
/// [`crate::Store::all_entries`] gives them.
pub fn account_users(
    entries: &[(AccountId, ListEntry)],
    catalogue: &Catalogue,
) -> (Vec<NewUser>, usize) {
    let mut users: Vec<NewUser> = Vec::new();
    let mut unknown = 0;
    let mut current = None;
    for (account, entry) in entries {
        let Some(anime) = catalogue.index_of(entry.anime_id) else {
            unknown += 1;
            continue;
        };
        if current != Some(*account) {
            current = Some(*account);
            users.push(NewUser {
                id: UserId(ACCOUNT_USER_IDS.start + users.len() as u32),
                entries: Vec::new(),
            });
        }
        if let Some(user) = users.last_mut() {
            user.entries.push(NewEntry {
                anime,
                score: entry.score,
                status: Some(entry.status),
            });
        }
    }
    for user in &mut users {
        user.entries.sort_by_key(|e| e.anime);
        user.entries.dedup_by_key(|e| e.anime);
    }
    (users, unknown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anirec_data::catalogue::Anime;
    use anirec_data::{AnimeIx, MalId, Score, WatchStatus};

    #[test]
    fn each_account_is_a_user_above_the_dataset_ids() {
        let catalogue = Catalogue::new(
            [30, 10, 20]
                .map(|id| Anime {
                    mal_id: MalId(id),
                    ..Anime::default()
                })
                .to_vec(),
        );
        let entry = |anime, score, status| ListEntry {
            anime_id: MalId(anime),
            score,
            status,
            episodes: 0,
        };
        let entries = [
            (
                AccountId(7),
                entry(20, Score::new(9).unwrap(), WatchStatus::Completed),
            ),
            (
                AccountId(7),
                entry(99, Score::new(9).unwrap(), WatchStatus::Completed),
            ),
            (
                AccountId(7),
                entry(30, Score::NONE, WatchStatus::PlanToWatch),
            ),
            (
                AccountId(9),
                entry(10, Score::new(3).unwrap(), WatchStatus::Dropped),
            ),
        ];
        let (users, unknown) = account_users(&entries, &catalogue);
        assert_eq!(unknown, 1);
        assert_eq!(users.len(), 2);
        assert_eq!(users[0].id, UserId(3_000_000_000));
        assert_eq!(
            users[0].entries,
            [
                NewEntry {
                    anime: AnimeIx(0),
                    score: Score::NONE,
                    status: Some(WatchStatus::PlanToWatch)
                },
                NewEntry {
                    anime: AnimeIx(2),
                    score: Score::new(9).unwrap(),
                    status: Some(WatchStatus::Completed)
                },
            ]
        );
        assert_eq!(users[1].id, UserId(3_000_000_001));
    }
}

//! The public relation files that say which MyAnimeList ids belong together (see
//! `shared/data/relations/README.md`): Fribb's collections (`mal_collection.json`), anime sharing a
//! TheTVDB series in Fribb's id list (`anime-list-mini.json`), and erengy's episode redirects
//! between sequels (`anime-relations.txt`). Each file gives sets of ids that belong together;
//! none is complete or free of wrong merges, which [`super::grouping`] mends.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{DataError, Result};
use crate::files::{SideFolder, file_name, read_file};
use crate::ids::MalId;
use crate::report::FileRead;

/// The collections file.
pub const COLLECTIONS_FILE: &str = "mal_collection.json";
/// The cross-site id list.
pub const ID_LIST_FILE: &str = "anime-list-mini.json";
/// The sequel episode redirects.
pub const REDIRECTS_FILE: &str = "anime-relations.txt";

/// The folder of relation files for a data folder: `relations` beside it (when it holds the
/// collections file) by default, the folder named, or none.
pub fn folder(source: &SideFolder, data_dir: &Path) -> Option<PathBuf> {
    source.folder(data_dir, "relations", |dir| {
        dir.join(COLLECTIONS_FILE).is_file()
    })
}

/// Sets of MyAnimeList ids that the relation files say belong together, and what was read.
#[derive(Debug, Clone, Default)]
pub struct Relations {
    /// Each set, as the file gave it (ids the catalogue lacks included).
    pub sets: Vec<Vec<MalId>>,
    /// The files read.
    pub files: Vec<FileRead>,
}

#[derive(Deserialize)]
struct Collection {
    ids: Vec<u32>,
}

#[derive(Deserialize)]
struct Listed {
    mal_id: Option<u32>,
    thetvdb_id: Option<u64>,
}

/// Reads the relation files of a folder; each must be there (a folder named on purpose that lacks
/// one is an error, not a silent gap).
pub fn read(dir: &Path) -> Result<Relations> {
    let mut relations = Relations::default();
    let path = dir.join(COLLECTIONS_FILE);
    let (collections, read): (Vec<Collection>, _) = parse_json(&path)?;
    relations.files.push(FileRead {
        rows: collections.len() as u64,
        ..read
    });
    relations.sets.extend(
        collections
            .into_iter()
            .map(|c| c.ids.into_iter().map(MalId).collect()),
    );

    let path = dir.join(ID_LIST_FILE);
    let (listed, read): (Vec<Listed>, _) = parse_json(&path)?;
    relations.files.push(FileRead {
        rows: listed.len() as u64,
        ..read
    });
    let mut series: HashMap<u64, Vec<MalId>> = HashMap::new();
    for l in listed {
        if let (Some(mal), Some(tvdb)) = (l.mal_id, l.thetvdb_id) {
            series.entry(tvdb).or_default().push(MalId(mal));
        }
    }
    let mut series: Vec<(u64, Vec<MalId>)> = series.into_iter().filter(|s| s.1.len() > 1).collect();
    series.sort_unstable_by_key(|s| s.0);
    relations.sets.extend(series.into_iter().map(|s| s.1));

    let path = dir.join(REDIRECTS_FILE);
    let bytes = read_file(&path)?;
    let text = String::from_utf8_lossy(&bytes);
    let rules: Vec<Vec<MalId>> = text.lines().filter_map(redirect).collect();
    relations.files.push(FileRead {
        file: file_name(&path),
        layout: "relations/anime-relations.txt".into(),
        rows: rules.len() as u64,
        bytes: bytes.len() as u64,
    });
    relations.sets.extend(rules);
    Ok(relations)
}

/// A relation JSON file, and what was read (rows left for the caller to count).
fn parse_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<(T, FileRead)> {
    let bytes = read_file(path)?;
    let value = serde_json::from_slice(&bytes).map_err(|e| DataError::Relations {
        path: path.to_owned(),
        message: format!("not the expected relation JSON: {e}"),
    })?;
    let file = file_name(path);
    let read = FileRead {
        layout: format!("relations/{file}"),
        file,
        rows: 0,
        bytes: bytes.len() as u64,
    };
    Ok((value, read))
}

/// The two MyAnimeList ids of a redirect rule `- MAL|Kitsu|AniList:eps -> MAL|Kitsu|AniList:eps`
/// (`~` on the right means "the same anime"; `?` an unknown id). Other lines give `None`.
fn redirect(line: &str) -> Option<Vec<MalId>> {
    let rule = line.trim().strip_prefix("- ")?;
    let (from, to) = rule.split_once("->")?;
    let mal = |side: &str| side.trim().split('|').next()?.trim().parse::<u32>().ok();
    let a = mal(from)?;
    let b = match to.trim().split('|').next()?.trim() {
        "~" => a,
        _ => mal(to)?,
    };
    (a != b).then(|| vec![MalId(a), MalId(b)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_rules_give_their_two_mal_ids() {
        assert_eq!(
            redirect("- 6682|4662|6682:13 -> 7739|5102|7739:1"),
            Some(vec![MalId(6682), MalId(7739)])
        );
        assert_eq!(
            redirect("- 41380|43367|116242:13-24 -> 44881|43883|127366:1-12!"),
            Some(vec![MalId(41380), MalId(44881)])
        );
        assert_eq!(redirect("- 10|?|12:2 -> ~|~|~:1"), None);
        assert_eq!(redirect("- ?|1|2:3 -> 5|6|7:1"), None);
        assert_eq!(redirect("::rules"), None);
        assert_eq!(redirect("- version: 1.3.0"), None);
    }
}

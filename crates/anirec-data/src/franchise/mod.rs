//! Franchises: the anime that are one series (seasons, films, OVAs, specials), each group with
//! its entries in watching order. Built at ingest ([`grouping::build`]) from the public relation
//! files ([`relations`]) and the catalogue's titles ([`titles`]), kept in the [`Catalogue`]
//! (so in snapshots and bundles), and used to show one card per series and what to watch next.
//!
//! [`Catalogue`]: crate::Catalogue

pub mod grouping;
pub mod relations;
pub mod retellings;
pub mod titles;

use serde::{Deserialize, Serialize};

use crate::anime::Anime;
use crate::ids::{AnimeIx, FranchiseId};

/// What kind of entry of a franchise an anime is, in watching order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryKind {
    /// A TV season.
    Season,
    /// A film.
    Film,
    /// An OVA or ONA.
    Ova,
    /// A special, a music video, or a type the catalogue does not give.
    Special,
}

impl EntryKind {
    /// The kind of an anime from its type.
    pub fn of(anime: &Anime) -> EntryKind {
        match anime.kind.as_deref() {
            Some("TV") => EntryKind::Season,
            Some("Movie") => EntryKind::Film,
            Some("OVA" | "ONA") => EntryKind::Ova,
            _ => EntryKind::Special,
        }
    }

    /// The name of one entry of this kind, and of several.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            EntryKind::Season => ("season", "seasons"),
            EntryKind::Film => ("film", "films"),
            EntryKind::Ova => ("OVA", "OVAs"),
            EntryKind::Special => ("special", "specials"),
        }
    }
}

/// One franchise: its entries in watching order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Franchise {
    /// The MyAnimeList id of its first entry.
    pub id: FranchiseId,
    /// The name of its first entry.
    pub name: String,
    /// Its entries (at least two), in watching order: series by series, the main one first;
    /// within a series TV seasons by air date, then films, OVAs and ONAs, specials.
    pub entries: Vec<AnimeIx>,
    /// The kind of each entry.
    pub kinds: Vec<EntryKind>,
    /// Which series of the franchise each entry belongs to (0, 1, ...: entries whose romaji
    /// titles link, so that Fate/Zero and Fate/stay night, or Final Fantasy VII and Final Fantasy:
    /// Unlimited, are separate series of one franchise).
    pub series: Vec<u16>,
    /// Where a fan starts, for each entry: the position of the first entry of its series whose
    /// romaji title it holds (Season 1 for `Shingeki no Kyojin Season 3`, Fate/Zero for `Fate/Zero 2nd
    /// Season`), or its own.
    pub starts: Vec<u16>,
    /// For each series (by number), the series whose story it tells again — a remake or a
    /// retelling, as Fullmetal Alchemist: Brotherhood tells the 2003 series' — or its own
    /// number. Two series of one story are alternatives ([`Franchise::alternatives`]). Empty in
    /// bundles written before retellings were told apart: every series its own.
    #[serde(default)]
    pub retells: Vec<u16>,
}

impl Franchise {
    /// The series whose story `series` tells: its own number unless it is a retelling.
    pub fn story_of(&self, series: u16) -> u16 {
        self.retells.get(series as usize).copied().unwrap_or(series)
    }

    /// Whether the entries at two positions are in different tellings of one story (the 2003
    /// Fullmetal Alchemist and Brotherhood): a fan who watched one is not sent to the other.
    pub fn alternatives(&self, p: usize, q: usize) -> bool {
        let (a, b) = (self.series[p], self.series[q]);
        a != b && self.story_of(a) == self.story_of(b)
    }

    /// The series the entry at `position` tells again, when it is a retelling: the first entry
    /// of the original (the 2003 Fullmetal Alchemist for Brotherhood).
    pub fn retelling_of(&self, position: usize) -> Option<AnimeIx> {
        let story = self.story_of(self.series[position]);
        (story != self.series[position])
            .then(|| self.series.iter().position(|&s| s == story))
            .flatten()
            .map(|p| self.entries[p])
    }

    /// Where it starts: its first entry.
    pub fn entry_point(&self) -> AnimeIx {
        self.entries[0]
    }

    /// Where a fan starts who is recommended the entry at `position` (see [`Franchise::starts`]).
    pub fn start_of(&self, position: usize) -> AnimeIx {
        self.entries[self.starts[position] as usize]
    }

    /// The first entry of the series the entry at `position` belongs to (Fate/Zero for Fate/Zero
    /// 2nd Season): what names that series.
    pub fn series_start(&self, position: usize) -> AnimeIx {
        let series = self.series[position];
        let first = self.series.iter().position(|&s| s == series);
        self.entries[first.expect("an entry is in its own series")]
    }

    /// An entry's name within its series: `Season 2`, `Film 1`, `OVA 3`, `Special 1`.
    pub fn label(&self, position: usize) -> String {
        let (kind, series) = (self.kinds[position], self.series[position]);
        let nth = (0..=position)
            .filter(|&p| self.kinds[p] == kind && self.series[p] == series)
            .count();
        let (one, _) = kind.names();
        let mut name = one.to_owned();
        name[..1].make_ascii_uppercase();
        format!("{name} {nth}")
    }

    /// What it holds, in words: `3 seasons, 2 films, 1 OVA`, and `in 2 series` when several of
    /// its series start with a TV season or a film.
    pub fn summary(&self) -> String {
        let kinds = [
            EntryKind::Season,
            EntryKind::Film,
            EntryKind::Ova,
            EntryKind::Special,
        ];
        let kinds = kinds
            .iter()
            .filter_map(|&kind| {
                let n = self.kinds.iter().filter(|&&k| k == kind).count();
                let (one, many) = kind.names();
                (n > 0).then(|| format!("{n} {}", if n == 1 { one } else { many }))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let series = (0..self.entries.len())
            .filter(|&p| p == 0 || self.series[p] != self.series[p - 1])
            .filter(|&p| matches!(self.kinds[p], EntryKind::Season | EntryKind::Film))
            .count();
        if series > 1 {
            format!("{kinds} in {series} series")
        } else {
            kinds
        }
    }
}

/// All franchises of a catalogue, and which one each anime is in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Franchises {
    groups: Vec<Franchise>,
    /// Per anime index: (group, position in it), `(u32::MAX, 0)` for none.
    #[serde(skip)]
    of: Vec<(u32, u32)>,
}

impl Franchises {
    /// Franchises over a catalogue of `n_anime` anime (each anime in at most one).
    pub fn new(groups: Vec<Franchise>, n_anime: usize) -> Franchises {
        let mut f = Franchises {
            groups,
            of: Vec::new(),
        };
        f.reindex(n_anime);
        f
    }

    /// Rebuilds the per-anime index (after deserialising).
    pub fn reindex(&mut self, n_anime: usize) {
        self.of = vec![(u32::MAX, 0); n_anime];
        for (g, f) in self.groups.iter().enumerate() {
            for (p, a) in f.entries.iter().enumerate() {
                if let Some(slot) = self.of.get_mut(a.index()) {
                    *slot = (g as u32, p as u32);
                }
            }
        }
    }

    /// All franchises, by id.
    pub fn all(&self) -> &[Franchise] {
        &self.groups
    }

    /// The franchise an anime is in, and its position there.
    pub fn of(&self, anime: AnimeIx) -> Option<(&Franchise, usize)> {
        let &(g, p) = self.of.get(anime.index())?;
        self.groups.get(g as usize).map(|f| (f, p as usize))
    }

    /// The number of the franchise an anime is in (an index into [`Franchises::all`]), for hot
    /// loops that only compare franchises.
    pub fn group_of(&self, anime: AnimeIx) -> Option<u32> {
        self.of
            .get(anime.index())
            .map(|&(g, _)| g)
            .filter(|&g| g != u32::MAX)
    }

    /// The franchise with this id.
    pub fn get(&self, id: FranchiseId) -> Option<&Franchise> {
        self.groups
            .binary_search_by_key(&id, |f| f.id)
            .ok()
            .map(|i| &self.groups[i])
    }
}

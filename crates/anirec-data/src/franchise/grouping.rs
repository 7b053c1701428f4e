//! Franchise groups from the relation files and the catalogue's titles.
//!
//! 1. The relation files' sets are joined (union-find) into candidate groups.
//! 2. A candidate group is split when its titles show two or more series: its anime are linked by
//!    [`TitleKey::links`]; an anime whose removal cuts a series from another and that is not their
//!    common root (a crossover such as Nisekoimonogatari, or Isekai Quartet) is set apart; if two
//!    or more linked clusters of 2+ remain, they become separate groups (clusters whose titles
//!    nearly all share a word that few other titles hold, such as Fate/Zero and Fate/stay night,
//!    stay together; Re:Zero and Isekai Quartet, sharing "isekai", do not), and the
//!    anime linked to none stand alone. A group with one cluster stays whole: the relation data
//!    knows spin-offs whose titles do not show it.
//! 3. Groups whose first main entry is named after another group's first TV series or film
//!    (Naruto: Shippuuden after Naruto, Dragon Ball Z after Dragon Ball), from the same source
//!    material (and, for a one-word root, a studio), are joined: the relation files lose the
//!    largest franchises. (A special named `Ginga` joins nothing, nor do `Tokyo Godfathers` and a
//!    film called `Tokyo`.)
//! 4. Each group's entries are ordered series by series (a series: entries whose romaji titles
//!    link, as Fate/Zero's or Shingeki! Kyojin Chuugakkou's), the root's series first, the others
//!    by their first entry; within a series TV seasons by air date, then films, OVAs and ONAs,
//!    specials and the rest. Each entry's start is the first entry of its series whose romaji
//!    title it holds (where a fan who has not started the franchise begins). A film or an OVA
//!    series that aired before every TV season of its series opens it (the 1995 Ghost in the
//!    Shell film, the FLCL OVAs).
//! 5. A series is split where a later entry tells its story again ([`retellings`]: Fullmetal
//!    Alchemist: Brotherhood, Hunter x Hunter (2011)): the retelling and the entries that aired
//!    from its start on are a series of their own, an alternative to the original
//!    ([`Franchise::retells`]), not its next season.

use std::collections::HashMap;

use super::relations::Relations;
use super::retellings;
use super::titles::TitleKey;
use super::{EntryKind, Franchise, Franchises};
use crate::anime::{Anime, Season};
use crate::ids::{AnimeIx, FranchiseId, MalId};

/// Share of the titles of each of two clusters that must hold one word for them to stay one
/// franchise (`gundam`, `fate`).
const SHARED_WORD: f32 = 0.8;
/// Most titles outside a group that may hold the word its clusters share for them to stay one
/// franchise.
const MAX_OUTSIDE: u32 = 5;
/// Shortest first-entry title (letters and digits) that other groups are joined to by name.
const MIN_ROOT: usize = 5;

/// The franchises of a catalogue's anime (`index_of` finds one by its MyAnimeList id), from the
/// relation files' sets (empty: titles alone).
pub fn build(
    anime: &[Anime],
    index_of: impl Fn(MalId) -> Option<AnimeIx>,
    relations: &Relations,
) -> Franchises {
    let keys: Vec<TitleKey> = anime.iter().map(TitleKey::of).collect();
    let titles_with = WordCounts::of(&keys);
    let mut sets = UnionFind::new(anime.len());
    for set in &relations.sets {
        let mut known = set.iter().filter_map(|&id| index_of(id));
        if let Some(first) = known.next() {
            known.for_each(|a| sets.union(first.0, a.0));
        }
    }
    let mut groups: Vec<Vec<u32>> = Vec::new();
    for candidate in sets.groups() {
        if candidate.len() < 2 {
            groups.push(candidate);
        } else {
            groups.extend(split(&candidate, &keys, &titles_with));
        }
    }
    let groups = join_by_root(groups, anime, &keys);
    let mut franchises: Vec<Franchise> = groups
        .into_iter()
        .filter(|g| g.len() >= 2)
        .map(|g| franchise(&g, anime, &keys))
        .collect();
    franchises.sort_by_key(|f| f.id);
    Franchises::new(franchises, anime.len())
}

/// A franchise from its members (step 4 of the module doc).
fn franchise(group: &[u32], anime: &[Anime], keys: &[TitleKey]) -> Franchise {
    let n = group.len();
    let mut adjacent = vec![Vec::new(); n];
    for i in 0..n {
        for j in i + 1..n {
            if keys[group[i] as usize].links_by_romaji(&keys[group[j] as usize]) {
                adjacent[i].push(j);
                adjacent[j].push(i);
            }
        }
    }
    let place = |a: u32| {
        let a = &anime[a as usize];
        (EntryKind::of(a), order_key(a))
    };
    let root = root(group, anime);
    let linked = components(&adjacent, &vec![true; n])
        .into_iter()
        .map(|c| c.into_iter().map(|i| group[i]).collect());
    // Each series with the series whose story it tells (its own place in `series` unless it
    // is a retelling), in watching order.
    let mut series: Vec<(Vec<u32>, usize)> = Vec::new();
    for members in linked {
        let original = series.len();
        for (t, mut telling) in tellings(members, anime, keys).into_iter().enumerate() {
            telling.sort_by_key(|&a| place(a));
            open_with_first_main(&mut telling, anime);
            series.push((telling, if t == 0 { series.len() } else { original }));
        }
    }
    let mut order: Vec<usize> = (0..series.len()).collect();
    order.sort_by_key(|&i| (!series[i].0.contains(&root), place(series[i].0[0])));
    let mut number = vec![0u16; series.len()];
    for (n, &i) in order.iter().enumerate() {
        number[i] = n as u16;
    }
    let retells: Vec<u16> = order.iter().map(|&i| number[series[i].1]).collect();
    let first = &anime[series[order[0]].0[0] as usize];
    let numbered = order
        .iter()
        .enumerate()
        .flat_map(|(n, &i)| series[i].0.iter().map(move |&a| (n as u16, a)));
    let (numbers, entries): (Vec<u16>, Vec<u32>) = numbered.unzip();
    let key = |p: usize| &keys[entries[p] as usize];
    let starts = (0..entries.len())
        .map(|p| {
            (0..p)
                .find(|&q| numbers[q] == numbers[p] && key(q).romaji_named_after(key(p)))
                .unwrap_or(p) as u16
        })
        .collect();
    Franchise {
        id: FranchiseId(first.mal_id.0),
        name: first.name.clone(),
        kinds: entries
            .iter()
            .map(|&a| EntryKind::of(&anime[a as usize]))
            .collect(),
        entries: entries.into_iter().map(AnimeIx).collect(),
        series: numbers,
        starts,
        retells,
    }
}

/// A series' entries split into its tellings (step 5 of the module doc): the original first,
/// then each retelling ([`retellings::retells`]) with the entries that aired from its start on.
fn tellings(members: Vec<u32>, anime: &[Anime], keys: &[TitleKey]) -> Vec<Vec<u32>> {
    let mut by_air: Vec<u32> = members;
    by_air.sort_by_key(|&a| order_key(&anime[a as usize]));
    // A retelling's own sequels (Sailor Moon Crystal Season III, named after Crystal) continue
    // it rather than start another.
    let mut starts: Vec<usize> = Vec::new();
    for i in 1..by_air.len() {
        let (later, key) = (&anime[by_air[i] as usize], &keys[by_air[i] as usize]);
        let continues = starts.iter().any(|&s| {
            key.romaji_words
                .starts_with(&keys[by_air[s] as usize].romaji_words)
        });
        if !continues
            && by_air[..i]
                .iter()
                .any(|&e| retellings::retells(later, key, &anime[e as usize], &keys[e as usize]))
        {
            starts.push(i);
        }
    }
    let mut out = Vec::with_capacity(starts.len() + 1);
    let mut from = 0;
    for &start in &starts {
        out.push(by_air[from..start].to_vec());
        from = start;
    }
    out.push(by_air[from..].to_vec());
    out
}

/// Fewest minutes a film or an OVA or ONA needs to open a series (a 3-minute promotional clip
/// before the TV series does not).
const OPENING_MINUTES: f32 = 40.0;

/// Puts first the series' earliest main entry when it is a film, or an OVA or ONA, of at least
/// [`OPENING_MINUTES`] that aired before every TV season of it: the 1995 Ghost in the Shell film
/// opens its series (named after it, not "Film 1 of Stand Alone Complex"), the FLCL OVAs open
/// theirs.
fn open_with_first_main(series: &mut [u32], anime: &[Anime]) {
    let main = |a: &Anime| match EntryKind::of(a) {
        EntryKind::Season => true,
        EntryKind::Film | EntryKind::Ova => {
            let minutes = a.minutes_per_episode.unwrap_or(0.0) * a.episodes.unwrap_or(0) as f32;
            minutes >= OPENING_MINUTES
        }
        EntryKind::Special => false,
    };
    let first = (0..series.len())
        .filter(|&i| {
            main(&anime[series[i] as usize]) && anime[series[i] as usize].start_year.is_some()
        })
        .min_by_key(|&i| order_key(&anime[series[i] as usize]));
    if let Some(i) =
        first.filter(|&i| EntryKind::of(&anime[series[i] as usize]) != EntryKind::Season)
    {
        series[..=i].rotate_right(1);
    }
}

/// Where an entry sorts among entries of its kind: air date, then MyAnimeList id.
fn order_key(a: &Anime) -> (u16, u8, u32) {
    let season = match a.season {
        Some(Season::Winter) => 0,
        Some(Season::Spring) => 1,
        Some(Season::Summer) => 2,
        Some(Season::Fall) => 3,
        None => 4,
    };
    (a.start_year.unwrap_or(u16::MAX), season, a.mal_id.0)
}

/// How many titles of the whole catalogue hold each title word.
struct WordCounts<'k>(HashMap<&'k str, u32>);

impl<'k> WordCounts<'k> {
    fn of(keys: &'k [TitleKey]) -> Self {
        let mut counts = HashMap::new();
        for word in keys.iter().flat_map(|k| &k.words) {
            *counts.entry(word.as_str()).or_insert(0) += 1;
        }
        WordCounts(counts)
    }

    fn get(&self, word: &str) -> u32 {
        self.0.get(word).copied().unwrap_or(0)
    }
}

/// Splits a candidate group where its titles show two or more series (step 2 of the module doc).
fn split(group: &[u32], keys: &[TitleKey], titles_with: &WordCounts) -> Vec<Vec<u32>> {
    let n = group.len();
    let key = |i: usize| &keys[group[i] as usize];
    let mut adjacent = vec![Vec::new(); n];
    for i in 0..n {
        for j in i + 1..n {
            if key(i).links(key(j)) {
                adjacent[i].push(j);
                adjacent[j].push(i);
            }
        }
    }
    let all = vec![true; n];
    let mut crossover = vec![false; n];
    for cluster in components(&adjacent, &all) {
        for &x in &cluster {
            let mut without: Vec<bool> = vec![false; n];
            cluster.iter().for_each(|&c| without[c] = c != x);
            let parts: Vec<Vec<usize>> = components(&adjacent, &without)
                .into_iter()
                .filter(|p| p.len() >= 2)
                .collect();
            let root_of_all = parts
                .iter()
                .all(|p| p.iter().any(|&m| key(x).named_after(key(m))));
            if parts.len() >= 2 && !root_of_all {
                crossover[x] = true;
            }
        }
    }
    let kept: Vec<bool> = crossover.iter().map(|c| !c).collect();
    let mut clusters = components(&adjacent, &kept);
    clusters.extend((0..n).filter(|&i| crossover[i]).map(|i| vec![i]));
    if clusters.iter().filter(|c| c.len() >= 2).count() < 2 {
        return vec![group.to_vec()];
    }
    // Clusters whose titles nearly all share a word stay one franchise.
    'merge: loop {
        for a in 0..clusters.len() {
            for b in a + 1..clusters.len() {
                let (x, y) = (&clusters[a], &clusters[b]);
                if x.len() >= 2 && y.len() >= 2 && share_word(x, y, n, &key, titles_with) {
                    let y = clusters.swap_remove(b);
                    clusters[a].extend(y);
                    continue 'merge;
                }
            }
        }
        break;
    }
    clusters
        .into_iter()
        .map(|c| c.into_iter().map(|i| group[i]).collect())
        .collect()
}

/// Whether a word is in at least [`SHARED_WORD`] of the titles of both clusters (of a group of
/// `n` anime) and in at most [`MAX_OUTSIDE`] titles outside the group: `gundam` and `fate` name
/// their franchise, `isekai` ("another world") names a kind of story.
fn share_word<'k>(
    x: &[usize],
    y: &[usize],
    n: usize,
    key: &impl Fn(usize) -> &'k TitleKey,
    titles_with: &WordCounts,
) -> bool {
    let share = |cluster: &[usize], word: &String| {
        cluster
            .iter()
            .filter(|&&i| key(i).words.binary_search(word).is_ok())
            .count() as f32
            >= SHARED_WORD * cluster.len() as f32
    };
    let outside = |word: &String| {
        let inside = (0..n)
            .filter(|&i| key(i).words.binary_search(word).is_ok())
            .count() as u32;
        titles_with.get(word).saturating_sub(inside)
    };
    x.iter()
        .flat_map(|&i| &key(i).words)
        .any(|w| share(x, w) && share(y, w) && outside(w) <= MAX_OUTSIDE)
}

/// Connected components of the nodes marked `alive`, each in ascending order.
fn components(adjacent: &[Vec<usize>], alive: &[bool]) -> Vec<Vec<usize>> {
    let mut seen = vec![false; adjacent.len()];
    let mut out = Vec::new();
    for start in 0..adjacent.len() {
        if !alive[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        let (mut stack, mut component) = (vec![start], Vec::new());
        while let Some(x) = stack.pop() {
            component.push(x);
            for &y in &adjacent[x] {
                if alive[y] && !seen[y] {
                    seen[y] = true;
                    stack.push(y);
                }
            }
        }
        component.sort_unstable();
        out.push(component);
    }
    out
}

/// Joins groups whose root (first main entry) is named, word for word, as the start of another
/// group's root, from the same source material (step 3 of the module doc).
fn join_by_root(groups: Vec<Vec<u32>>, anime: &[Anime], keys: &[TitleKey]) -> Vec<Vec<u32>> {
    let roots: Vec<u32> = groups.iter().map(|g| root(g, anime)).collect();
    let mut by_first_word: HashMap<&str, Vec<usize>> = HashMap::new();
    for (g, &r) in roots.iter().enumerate() {
        if let Some(w) = keys[r as usize].romaji_words.first() {
            by_first_word.entry(w).or_default().push(g);
        }
    }
    let mut joined = UnionFind::new(groups.len());
    let mut buckets: Vec<&Vec<usize>> = by_first_word.values().collect();
    buckets.sort_unstable();
    for bucket in buckets {
        for &a in bucket {
            let root_a = &anime[roots[a] as usize];
            let words_a = &keys[roots[a] as usize].romaji_words;
            let main = matches!(EntryKind::of(root_a), EntryKind::Season | EntryKind::Film);
            if !main || words_a.iter().map(String::len).sum::<usize>() < MIN_ROOT {
                continue;
            }
            for &b in bucket {
                let root_b = &anime[roots[b] as usize];
                let words_b = &keys[roots[b] as usize].romaji_words;
                // A one-word root is often a common word ("Tokyo", "Samurai"): it also needs a
                // studio in common.
                let same_studio = || root_a.studios.iter().any(|s| root_b.studios.contains(s));
                if words_b.len() > words_a.len()
                    && words_b.starts_with(words_a)
                    && root_a.source == root_b.source
                    && (words_a.len() > 1 || same_studio())
                {
                    joined.union(a as u32, b as u32);
                }
            }
        }
    }
    joined
        .groups()
        .into_iter()
        .map(|members| {
            members
                .into_iter()
                .flat_map(|g| groups[g as usize].iter().copied())
                .collect()
        })
        .collect()
}

/// A group's root: its earliest TV series, else its earliest film, OVA or ONA, else its earliest
/// entry.
fn root(group: &[u32], anime: &[Anime]) -> u32 {
    let of_kind = |kinds: &[EntryKind]| {
        group
            .iter()
            .copied()
            .filter(|&a| kinds.contains(&EntryKind::of(&anime[a as usize])))
            .min_by_key(|&a| order_key(&anime[a as usize]))
    };
    of_kind(&[EntryKind::Season])
        .or_else(|| of_kind(&[EntryKind::Film, EntryKind::Ova]))
        .unwrap_or_else(|| {
            *group
                .iter()
                .min_by_key(|&&a| order_key(&anime[a as usize]))
                .expect("groups are never empty")
        })
}

/// Disjoint sets over `0..n`.
struct UnionFind(Vec<u32>);

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind((0..n as u32).collect())
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.0[x as usize] != x {
            let parent = self.0[x as usize];
            self.0[x as usize] = self.0[parent as usize];
            x = parent;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.0[a.max(b) as usize] = a.min(b);
        }
    }

    /// Every set, members ascending, sets by their smallest member.
    fn groups(&mut self) -> Vec<Vec<u32>> {
        let n = self.0.len() as u32;
        let mut by_root: Vec<Vec<u32>> = vec![Vec::new(); n as usize];
        for x in 0..n {
            let r = self.find(x);
            by_root[r as usize].push(x);
        }
        by_root.into_iter().filter(|g| !g.is_empty()).collect()
    }
}

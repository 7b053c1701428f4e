//! Bounded caches keyed by text: serialised answers for one model (a model never changes once
//! loaded, so an answer for the same request stays right until the model is swapped, and the
//! cache goes with the model it belongs to), and the encoder's query embeddings. Two
//! generations approximate least-recently-used eviction: entries live in `current` until it
//! holds half the capacity, then `current` becomes `previous` (the old `previous` is dropped); a
//! hit in `previous` moves the entry back to `current`.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;

/// Values (cheap to clone) keyed by text, at most a fixed number of them.
#[derive(Debug)]
pub struct BoundedCache<V> {
    capacity: usize,
    generations: Mutex<Generations<V>>,
}

/// Cached answers keyed by request.
pub type ResponseCache = BoundedCache<Bytes>;

#[derive(Debug)]
struct Generations<V> {
    current: HashMap<String, V>,
    previous: HashMap<String, V>,
}

impl<V> Default for BoundedCache<V> {
    /// A cache that is off (capacity 0).
    fn default() -> Self {
        BoundedCache::new(0)
    }
}

impl<V> BoundedCache<V> {
    /// A cache of at most `capacity` values (0 turns it off).
    pub fn new(capacity: usize) -> BoundedCache<V> {
        BoundedCache {
            capacity,
            generations: Mutex::new(Generations {
                current: HashMap::new(),
                previous: HashMap::new(),
            }),
        }
    }
}

impl<V: Clone> BoundedCache<V> {
    /// The value cached for `key`.
    pub fn get(&self, key: &str) -> Option<V> {
        if self.capacity == 0 {
            return None;
        }
        let mut g = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(hit) = g.current.get(key) {
            return Some(hit.clone());
        }
        let hit = g.previous.remove(key)?;
        self.insert_into(&mut g, key.to_owned(), hit.clone());
        Some(hit)
    }

    /// Keeps a value.
    pub fn put(&self, key: String, value: V) {
        if self.capacity == 0 {
            return;
        }
        let mut g = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        self.insert_into(&mut g, key, value);
    }

    fn insert_into(&self, g: &mut Generations<V>, key: String, value: V) {
        if g.current.len() >= self.capacity.div_ceil(2) {
            g.previous = std::mem::take(&mut g.current);
        }
        g.current.insert(key, value);
    }

    /// Values held now.
    pub fn len(&self) -> usize {
        let g = self.generations.lock().unwrap_or_else(|e| e.into_inner());
        g.current.len() + g.previous.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_recent_answers_within_capacity() {
        let cache = ResponseCache::new(4);
        for i in 0..10 {
            cache.put(format!("k{i}"), Bytes::from(vec![i as u8]));
            assert!(cache.len() <= 4);
        }
        assert_eq!(cache.get("k9"), Some(Bytes::from(vec![9])));
        assert_eq!(cache.get("k0"), None);
        assert!(cache.len() <= 4);
    }

    #[test]
    fn a_key_used_again_survives_the_next_turnover() {
        let cache = ResponseCache::new(4);
        cache.put("a".into(), Bytes::from_static(b"a"));
        cache.put("b".into(), Bytes::from_static(b"b"));
        // A turnover: a and b are the previous generation now.
        cache.put("c".into(), Bytes::from_static(b"c"));
        // Used again, a moves back to the current generation; b is not used.
        assert_eq!(cache.get("a"), Some(Bytes::from_static(b"a")));
        cache.put("d".into(), Bytes::from_static(b"d"));
        cache.put("e".into(), Bytes::from_static(b"e"));
        // After the next turnover a is still there (it would be gone had it stayed where it was)
        // and b is gone.
        assert_eq!(cache.get("a"), Some(Bytes::from_static(b"a")));
        assert_eq!(cache.get("b"), None);
        assert!(cache.len() <= 4);
    }

    #[test]
    fn a_cache_of_nothing_keeps_nothing() {
        let off = ResponseCache::new(0);
        off.put("x".into(), Bytes::new());
        assert!(off.get("x").is_none() && off.is_empty());
    }
}

//! The signals the hybrid blends, as an enum that indexes fixed arrays ([`PerSignal`]): the
//! raw signals of a candidate, their standardised contributions, and the blend weights (saved by
//! name in the bundle manifest). A new signal is one more variant, its name, and its weight grid.

use std::ops::{Index, IndexMut};

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One signal of the blend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Signal {
    /// EASE's collaborative score.
    Collab,
    /// The rating model's predicted score.
    Rating,
    /// TF-IDF similarity of the anime to the user's content profile.
    Content,
    /// Similarity of the anime's story embedding to the user's liked anime's (zero for a model
    /// trained without an encoder).
    Story,
    /// log(1 + train ratings) of the anime.
    Popularity,
    /// log(1 + how many validation users' top 10 held the anime): a negative weight spreads
    /// recommendations over more of the catalogue.
    Exposure,
}

impl Signal {
    /// Every signal, in array order.
    pub const ALL: [Signal; 6] = [
        Signal::Collab,
        Signal::Rating,
        Signal::Content,
        Signal::Story,
        Signal::Popularity,
        Signal::Exposure,
    ];

    /// The signal's name (in the manifest, the `eval` JSON and the API's reasons).
    pub fn name(self) -> &'static str {
        match self {
            Signal::Collab => "collab",
            Signal::Rating => "rating",
            Signal::Content => "content",
            Signal::Story => "story",
            Signal::Popularity => "popularity",
            Signal::Exposure => "exposure",
        }
    }

    /// The weights tried for this signal when the blend is tuned on validation (collab is the
    /// anchor the others are relative to).
    pub fn weight_grid(self) -> &'static [f32] {
        match self {
            Signal::Collab => &[1.0],
            Signal::Rating => &[0.0, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8],
            Signal::Content | Signal::Story => &[0.0, 0.2, 0.35, 0.5, 0.7, 1.0, 1.4],
            Signal::Popularity => &[-0.8, -0.6, -0.45, -0.3, -0.15, 0.0, 0.15],
            Signal::Exposure => &[
                -1.2, -1.0, -0.8, -0.7, -0.6, -0.55, -0.5, -0.45, -0.4, -0.3, -0.15, 0.0,
            ],
        }
    }
}

/// One value per signal, indexed by [`Signal`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PerSignal<T>(pub [T; Signal::ALL.len()]);

impl<T> Index<Signal> for PerSignal<T> {
    type Output = T;
    fn index(&self, s: Signal) -> &T {
        &self.0[s as usize]
    }
}

impl<T> IndexMut<Signal> for PerSignal<T> {
    fn index_mut(&mut self, s: Signal) -> &mut T {
        &mut self.0[s as usize]
    }
}

impl<T: Copy> PerSignal<T> {
    /// (signal, value) pairs in array order.
    pub fn iter(&self) -> impl Iterator<Item = (Signal, T)> + '_ {
        Signal::ALL.iter().map(|&s| (s, self[s]))
    }
}

/// The blend weights: one per signal.
pub type Weights = PerSignal<f32>;

impl Weights {
    /// Only collab at 1: where tuning starts.
    pub fn collab_only() -> Weights {
        let mut w = Weights::default();
        w[Signal::Collab] = 1.0;
        w
    }
}

/// Written as `{"collab": 1.0, "rating": 0.2, ...}`, in signal order.
impl Serialize for PerSignal<f32> {
    fn serialize<S: Serializer>(&self, out: S) -> Result<S::Ok, S::Error> {
        let mut map = out.serialize_map(Some(Signal::ALL.len()))?;
        for (s, w) in self.iter() {
            map.serialize_entry(s.name(), &w)?;
        }
        map.end()
    }
}

/// Read from the same map; every signal must be there, and no other name — except `story`,
/// which bundles made before it existed lack (its weight is then 0).
impl<'de> Deserialize<'de> for PerSignal<f32> {
    fn deserialize<D: Deserializer<'de>>(input: D) -> Result<Self, D::Error> {
        struct WeightsVisitor;
        impl<'de> Visitor<'de> for WeightsVisitor {
            type Value = PerSignal<f32>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "a weight for each of collab, rating, content, story, popularity, exposure",
                )
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut weights = [None; Signal::ALL.len()];
                weights[Signal::Story as usize] = Some(0.0);
                while let Some((signal, weight)) = map.next_entry::<Signal, f32>()? {
                    weights[signal as usize] = Some(weight);
                }
                let mut out = PerSignal::default();
                for s in Signal::ALL {
                    out[s] =
                        weights[s as usize].ok_or_else(|| de::Error::missing_field(s.name()))?;
                }
                Ok(out)
            }
        }
        input.deserialize_map(WeightsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_written_and_read_by_name() {
        let mut w = Weights::collab_only();
        w[Signal::Exposure] = -0.4;
        let json = serde_json::to_string(&w).unwrap();
        assert_eq!(
            json,
            r#"{"collab":1.0,"rating":0.0,"content":0.0,"story":0.0,"popularity":0.0,"exposure":-0.4}"#
        );
        assert_eq!(serde_json::from_str::<Weights>(&json).unwrap(), w);
        // A bundle made before the story signal: its weight is 0.
        let older = r#"{"collab":1,"rating":0.5,"content":0,"popularity":0,"exposure":0}"#;
        let read = serde_json::from_str::<Weights>(older).unwrap();
        assert_eq!((read[Signal::Rating], read[Signal::Story]), (0.5, 0.0));
        let missing = serde_json::from_str::<Weights>(r#"{"collab":1.0}"#).unwrap_err();
        assert!(
            missing.to_string().contains("missing field `rating`"),
            "{missing}"
        );
        let unknown = r#"{"collab":1,"rating":0,"content":0,"popularity":0,"exposure":0,"x":1}"#;
        assert!(serde_json::from_str::<Weights>(unknown).is_err());
    }

    #[test]
    fn every_signal_has_a_name_and_a_grid() {
        for s in Signal::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.name());
            assert!(!s.weight_grid().is_empty());
            assert!(s.weight_grid().windows(2).all(|w| w[0] < w[1]), "{s:?}");
        }
    }
}

//! The ranker's trees, read from LightGBM's text format and walked here: a fan's few hundred
//! candidates are scored on every request, and LightGBM's own prediction builds a predictor and
//! takes a lock per call (three times the blend's whole request on the sample). Training and the
//! per-feature contributions stay LightGBM's; `tests` check that the scores are LightGBM's.
//!
//! Only what LightGBM writes for numerical splits is read: a tree with categorical splits is
//! refused (the ranker declares no categorical feature).

/// One internal node, with LightGBM's numerical decision ([`Split::goes_left`]) folded into
/// three flags.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Split {
    threshold: f64,
    feature: u32,
    /// A child: a node's index (always above its parent's), or a leaf's `!index` (negative).
    left: i32,
    right: i32,
    /// Where a missing value goes when missing values were seen in training.
    default_left: bool,
    /// Where NaN goes: the default side, or, where no value was missing in training, zero's.
    nan_left: bool,
    /// Whether zero counts as missing (LightGBM's `MissingType::Zero`).
    zero_missing: bool,
}

impl Split {
    /// LightGBM's `NumericalDecision`: NaN goes where missing values went (or with zero, where
    /// none did), zero where missing values went if zero counts as missing, the rest left
    /// when at most the threshold.
    #[inline]
    fn goes_left(&self, value: f32) -> bool {
        if value.is_nan() {
            self.nan_left
        } else if self.zero_missing && value.abs() <= 1e-35 {
            self.default_left
        } else {
            f64::from(value) <= self.threshold
        }
    }
}

/// Rows walked through a tree side by side: their steps are independent, so the processor
/// overlaps them.
const LANES: usize = 8;

/// One tree: its internal nodes (node 0 the root) and leaf values.
#[derive(Debug, Clone, PartialEq)]
struct Tree {
    splits: Vec<Split>,
    leaves: Vec<f64>,
}

/// What a LightGBM model text could not be read as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("LightGBM model, tree {tree}: {message}")]
pub struct TreesError {
    /// The tree (0-based) the problem is in.
    pub tree: usize,
    /// What was wrong.
    pub message: String,
}

/// A model's trees, ready to score rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trees {
    trees: Vec<Tree>,
}

impl Trees {
    /// Reads the trees of a model in LightGBM's text format.
    pub fn parse(text: &str) -> Result<Trees, TreesError> {
        let mut trees = Vec::new();
        let mut block: Vec<(&str, &str)> = Vec::new();
        let mut in_tree = false;
        let finish = |block: &mut Vec<(&str, &str)>, trees: &mut Vec<Tree>| {
            let tree = Tree::of(block).map_err(|message| TreesError {
                tree: trees.len(),
                message,
            })?;
            trees.push(tree);
            block.clear();
            Ok::<(), TreesError>(())
        };
        for line in text.lines() {
            if line.starts_with("Tree=") {
                if in_tree {
                    finish(&mut block, &mut trees)?;
                }
                in_tree = true;
            } else if line == "end of trees" {
                break;
            } else if in_tree && let Some(pair) = line.split_once('=') {
                block.push(pair);
            }
        }
        if in_tree {
            finish(&mut block, &mut trees)?;
        }
        Ok(Trees { trees })
    }

    /// Trees held.
    pub fn len(&self) -> usize {
        self.trees.len()
    }

    /// Whether no tree is held.
    pub fn is_empty(&self) -> bool {
        self.trees.is_empty()
    }

    /// The raw scores of rows of `width` features each (row-major), into `out` (one per row).
    /// Tree by tree, every row: a tree's nodes stay in the nearest cache while the rows walk
    /// it, several side by side.
    pub fn score_rows(&self, rows: &[f32], width: usize, out: &mut [f64]) {
        out.fill(0.0);
        for tree in &self.trees {
            tree.add_leaves(rows, width, out);
        }
    }

    /// The number of features the trees read (one more than the largest index a split reads).
    pub fn features_read(&self) -> usize {
        self.trees
            .iter()
            .filter_map(Tree::max_feature)
            .max()
            .map_or(0, |f| f as usize + 1)
    }
}

impl Tree {
    fn of(block: &[(&str, &str)]) -> Result<Tree, String> {
        let get =
            |key: &str| -> Option<&str> { block.iter().find(|(k, _)| *k == key).map(|(_, v)| *v) };
        let numbers = |key: &str| -> Result<Vec<f64>, String> {
            let text = get(key).ok_or_else(|| format!("no {key}"))?;
            text.split(' ')
                .map(|x| x.parse::<f64>().map_err(|e| format!("{key}: {x:?}: {e}")))
                .collect()
        };
        if get("num_cat").is_some_and(|n| n != "0") {
            return Err("categorical splits are not read".to_owned());
        }
        let leaves = numbers("leaf_value")?;
        let n_leaves: usize = get("num_leaves")
            .ok_or("no num_leaves")?
            .parse()
            .map_err(|e| format!("num_leaves: {e}"))?;
        if leaves.len() != n_leaves || n_leaves == 0 {
            return Err(format!(
                "{} leaf values for {n_leaves} leaves",
                leaves.len()
            ));
        }
        if n_leaves == 1 {
            return Ok(Tree {
                splits: Vec::new(),
                leaves,
            });
        }
        let (features, thresholds) = (numbers("split_feature")?, numbers("threshold")?);
        let (kinds, lefts, rights) = (
            numbers("decision_type")?,
            numbers("left_child")?,
            numbers("right_child")?,
        );
        let n = n_leaves - 1;
        if [&features, &thresholds, &kinds, &lefts, &rights]
            .iter()
            .any(|v| v.len() != n)
        {
            return Err(format!("split arrays are not {n} long"));
        }
        // LightGBM numbers a node after its parent, so a walk always ends at a leaf.
        let child = |parent: usize, c: f64| -> Result<i32, String> {
            let c = c as i32;
            let fits = if c >= 0 {
                (c as usize) < n && c as usize > parent
            } else {
                ((!c) as usize) < n_leaves
            };
            if fits {
                Ok(c)
            } else {
                Err(format!(
                    "node {parent}'s child {c} is out of order or range"
                ))
            }
        };
        let mut splits = Vec::with_capacity(n);
        for i in 0..n {
            let kind = kinds[i] as u32;
            if kind & 1 != 0 {
                return Err("categorical splits are not read".to_owned());
            }
            let default_left = kind & 2 != 0;
            // Bits 2-3: the missing type, 0 none (NaN read as zero), 1 zero, 2 NaN.
            let missing = (kind >> 2) & 3;
            splits.push(Split {
                threshold: thresholds[i],
                feature: features[i] as u32,
                left: child(i, lefts[i])?,
                right: child(i, rights[i])?,
                default_left,
                nan_left: if missing == 0 {
                    0.0 <= thresholds[i]
                } else {
                    default_left
                },
                zero_missing: missing == 1,
            });
        }
        Ok(Tree { splits, leaves })
    }

    /// Adds to `out` the leaf value of each row of `rows` (`width` features each), walking
    /// [`LANES`] rows at a time.
    fn add_leaves(&self, rows: &[f32], width: usize, out: &mut [f64]) {
        if self.splits.is_empty() {
            out.iter_mut().for_each(|s| *s += self.leaves[0]);
            return;
        }
        for (block, sums) in rows.chunks(width * LANES).zip(out.chunks_mut(LANES)) {
            let mut nodes = [0i32; LANES];
            let n = sums.len();
            loop {
                let mut walking = false;
                for (lane, node) in nodes[..n].iter_mut().enumerate() {
                    if *node >= 0 {
                        let s = &self.splits[*node as usize];
                        let value = block[lane * width + s.feature as usize];
                        *node = if s.goes_left(value) { s.left } else { s.right };
                        walking = true;
                    }
                }
                if !walking {
                    break;
                }
            }
            for (sum, node) in sums.iter_mut().zip(nodes) {
                *sum += self.leaves[(!node) as usize];
            }
        }
    }

    /// The largest feature index a split reads.
    fn max_feature(&self) -> Option<u32> {
        self.splits.iter().map(|s| s.feature).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ranker::lightgbm::{Groups, Model, train};

    /// Queries of 30 rows and 4 features: relevance follows feature 0 and, where it is not
    /// missing, feature 2; feature 1 is zero or missing now and then.
    fn groups(seed: u64, queries: usize) -> Groups {
        let mut rng = anirec_data::rng::Rng::new(seed);
        let mut out = Groups::default();
        for _ in 0..queries {
            let (mut rows, mut labels) = (Vec::new(), Vec::new());
            for _ in 0..30 {
                let x0 = rng.below(1000) as f32 / 100.0;
                let x1 = match rng.below(4) {
                    0 => f32::NAN,
                    1 => 0.0,
                    _ => rng.below(100) as f32,
                };
                let x2 = if rng.below(5) == 0 {
                    f32::NAN
                } else {
                    rng.below(10) as f32
                };
                let x3 = rng.below(3) as f32;
                let score = x0 + if x2.is_nan() { 2.0 } else { x2 } + x3;
                rows.extend([x0, x1, x2, x3]);
                labels.push(f32::from(u8::from(score > 12.0)));
            }
            out.push(&rows, &labels);
        }
        out
    }

    #[test]
    fn the_trees_score_rows_as_lightgbm_does_missing_values_included() {
        let params = "objective=lambdarank metric=ndcg eval_at=5 num_leaves=15 \
                      min_data_in_leaf=5 learning_rate=0.2 verbosity=-1 num_threads=1 \
                      deterministic=true seed=3";
        let names = ["x0", "x1", "x2", "x3"];
        let trained = train(&groups(1, 60), &groups(2, 15), &names, params, 40, 40).unwrap();
        let trees = Trees::parse(&trained.text).unwrap();
        assert_eq!(trees.len(), trained.best_iteration);
        let model = Model::parse(&trained.text, 4).unwrap();
        let rows = groups(3, 10).rows;
        // 300 rows: the last block of lanes is a short one.
        let mut ours = vec![0f64; rows.len() / 4];
        trees.score_rows(&rows, 4, &mut ours);
        let theirs = model.predict(&rows).unwrap();
        assert_eq!(ours.len(), theirs.len());
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!((a - b).abs() < 1e-9, "row {i}: {a} against LightGBM's {b}");
        }
        // The rows do reach different leaves.
        assert!(ours.iter().any(|&s| (s - ours[0]).abs() > 1e-6));
    }

    #[test]
    fn a_model_text_that_is_not_one_is_refused_naming_the_tree() {
        let text = "tree\nversion=v4\n\nTree=0\nnum_leaves=2\nnum_cat=0\nsplit_feature=0\n\
                    threshold=0.5\ndecision_type=2\nleft_child=-1\nright_child=-2\n\
                    leaf_value=0.1 oops\n";
        let err = Trees::parse(text).unwrap_err();
        assert_eq!(err.tree, 0);
        assert!(err.to_string().contains("leaf_value"), "{err}");
        // A child numbered before its parent (a cycle, here) and one out of range are refused:
        // every walk the trees allow ends at a leaf.
        let cycle = "Tree=0\nnum_leaves=3\nsplit_feature=0 0\nthreshold=1 2\n\
                     decision_type=2 2\nleft_child=1 0\nright_child=-1 -2\nleaf_value=1 2 3\n";
        let err = Trees::parse(cycle).unwrap_err();
        assert!(err.to_string().contains("out of order"), "{err}");
        let fine = cycle.replace("left_child=1 0", "left_child=1 -3");
        assert_eq!(Trees::parse(&fine).unwrap().features_read(), 1);
        let out_of_range = fine.replace("right_child=-1 -2", "right_child=-1 -9");
        assert!(Trees::parse(&out_of_range).is_err());
    }
}

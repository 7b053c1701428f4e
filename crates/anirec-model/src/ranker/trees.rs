//! The ranker's trees, read from LightGBM's text format and walked here: a fan's few hundred
//! candidates are scored on every request, and LightGBM's own prediction builds a predictor and
//! takes a lock per call (three times the blend's whole request on the sample). Training and the
//! per-feature contributions stay LightGBM's; `tests` check that the scores are LightGBM's.
//!
//! Only what LightGBM writes for numerical splits is read: a tree with categorical splits or
//! with zero read as missing is refused (the ranker declares no categorical feature and leaves
//! `zero_as_missing` off).

/// One node of a tree as the walk reads it: an internal node's numerical decision, or a
/// leaf's sink (both children itself, so that rows which reached it stay there while the
/// deeper rows of their block walk on).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Node {
    /// The largest `f32` at most LightGBM's `f64` threshold: for an `f32` value, `value <=
    /// threshold` reads as LightGBM's `f64` comparison does.
    threshold: f32,
    feature: u16,
    /// Where NaN goes: where missing values went in training, or, where none were missing,
    /// where zero goes (LightGBM reads NaN as zero then).
    nan_left: bool,
    /// The children: nodes numbered after this one, or leaves' sinks.
    left: u16,
    right: u16,
}

impl Node {
    /// The child a value leads to (LightGBM's `NumericalDecision`), without a branch.
    #[inline(always)]
    fn next(&self, value: f32) -> u16 {
        let left = (value <= self.threshold) | (self.nan_left & value.is_nan());
        if left { self.left } else { self.right }
    }
}

/// Rows walked through a tree side by side: their steps are independent, so the processor
/// overlaps them.
const LANES: usize = 8;

/// One tree: its internal nodes (node 0 the root, when there is one), then one sink node per
/// leaf, and the leaves' values.
#[derive(Debug, Clone, PartialEq)]
struct Tree {
    nodes: Vec<Node>,
    /// The index of the first leaf's sink (the number of internal nodes).
    first_leaf: usize,
    /// The most decisions from the root to a leaf.
    depth: usize,
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
        if n_leaves > usize::from(u16::MAX) / 2 {
            return Err(format!("{n_leaves} leaves are more than the walk reads"));
        }
        let sink = |leaf: usize, first_leaf: usize| {
            let at = (first_leaf + leaf) as u16;
            Node {
                threshold: 0.0,
                feature: 0,
                nan_left: false,
                left: at,
                right: at,
            }
        };
        if n_leaves == 1 {
            return Ok(Tree {
                nodes: vec![sink(0, 0)],
                first_leaf: 0,
                depth: 0,
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
        let child = |parent: usize, c: f64| -> Result<u16, String> {
            let c = c as i32;
            if c >= 0 && (c as usize) < n && c as usize > parent {
                Ok(c as u16)
            } else if c < 0 && ((!c) as usize) < n_leaves {
                Ok((n + (!c) as usize) as u16)
            } else {
                Err(format!(
                    "node {parent}'s child {c} is out of order or range"
                ))
            }
        };
        let mut nodes = Vec::with_capacity(n + n_leaves);
        for i in 0..n {
            let kind = kinds[i] as u32;
            if kind & 1 != 0 {
                return Err("categorical splits are not read".to_owned());
            }
            let default_left = kind & 2 != 0;
            // Bits 2-3: the missing type, 0 none (NaN read as zero), 1 zero, 2 NaN.
            let nan_left = match (kind >> 2) & 3 {
                0 => 0.0 <= thresholds[i],
                2 => default_left,
                _ => return Err("splits with zero as missing are not read".to_owned()),
            };
            let feature = features[i];
            if !(0.0..f64::from(u16::MAX)).contains(&feature) {
                return Err(format!("node {i} reads feature {feature}"));
            }
            nodes.push(Node {
                threshold: at_most(thresholds[i]),
                feature: feature as u16,
                nan_left,
                left: child(i, lefts[i])?,
                right: child(i, rights[i])?,
            });
        }
        nodes.extend((0..n_leaves).map(|leaf| sink(leaf, n)));
        // Depths in node order: a child is numbered after its parent.
        let mut depth = vec![0usize; nodes.len()];
        for i in 0..n {
            for c in [nodes[i].left, nodes[i].right] {
                depth[usize::from(c)] = depth[i] + 1;
            }
        }
        Ok(Tree {
            depth: depth[n..].iter().copied().max().unwrap_or(0),
            nodes,
            first_leaf: n,
            leaves,
        })
    }

    /// Adds to `out` the leaf value of each row of `rows` (`width` features each), walking
    /// [`LANES`] rows at a time, each block as many steps as the tree is deep.
    fn add_leaves(&self, rows: &[f32], width: usize, out: &mut [f64]) {
        let mut blocks = rows.chunks_exact(width * LANES);
        let mut sums = out.chunks_exact_mut(LANES);
        for (block, sums) in (&mut blocks).zip(&mut sums) {
            self.add_block::<LANES>(block, width, sums);
        }
        let (block, sums) = (blocks.remainder(), sums.into_remainder());
        for (row, sum) in block.chunks_exact(width).zip(sums) {
            self.add_block::<1>(row, width, std::slice::from_mut(sum));
        }
    }

    /// Adds to `sums` the leaf values of the `L` rows of `block`, walked side by side.
    #[inline(always)]
    fn add_block<const L: usize>(&self, block: &[f32], width: usize, sums: &mut [f64]) {
        let mut at = [0u16; L];
        for _ in 0..self.depth {
            for (lane, node) in at.iter_mut().enumerate() {
                let n = &self.nodes[usize::from(*node)];
                *node = n.next(block[lane * width + usize::from(n.feature)]);
            }
        }
        for (sum, node) in sums.iter_mut().zip(at) {
            *sum += self.leaves[usize::from(node) - self.first_leaf];
        }
    }

    /// The largest feature index a split reads.
    fn max_feature(&self) -> Option<u32> {
        self.nodes[..self.first_leaf]
            .iter()
            .map(|n| u32::from(n.feature))
            .max()
    }
}

/// The largest `f32` at most `threshold`: for every `f32` value `v`, `v <= at_most(t)` exactly
/// when `f64::from(v) <= t`.
fn at_most(threshold: f64) -> f32 {
    let t = threshold as f32;
    if f64::from(t) > threshold {
        t.next_down()
    } else {
        t
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
    fn a_threshold_read_as_f32_splits_f32_values_as_the_f64_one_does() {
        let thresholds = [
            0.1,
            -0.1,
            1e-35,
            0.3333333333333333,
            2.5,
            1e300,
            -1e300,
            16777217.0,
        ];
        for t in thresholds {
            let below = at_most(t);
            let t32 = t as f32;
            for v in [
                t32.next_down(),
                t32,
                t32.next_up(),
                below,
                below.next_up(),
                0.0,
            ] {
                assert_eq!(
                    v <= below,
                    f64::from(v) <= t,
                    "value {v:e}, threshold {t:e}"
                );
            }
        }
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
        // Zero read as missing (decision type 6: default left, missing type zero) is refused.
        let zero = fine.replace("decision_type=2 2", "decision_type=2 6");
        let err = Trees::parse(&zero).unwrap_err();
        assert!(err.to_string().contains("zero as missing"), "{err}");
    }
}

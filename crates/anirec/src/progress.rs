//! Progress bars on standard error for long reads and writes (hidden when stderr is not a
//! terminal, so logs and `--json` output stay clean).

use indicatif::{ProgressBar, ProgressStyle};

/// An `indicatif` bar behind the data layer's [`anirec_data::Progress`] trait.
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A bar that appears once a phase starts.
    pub fn new() -> Self {
        let bar = ProgressBar::hidden();
        Bar { bar }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl anirec_data::Progress for Bar {
    fn start(&self, what: &str, total: u64) {
        self.bar
            .set_draw_target(indicatif::ProgressDrawTarget::stderr());
        self.bar.set_length(total);
        self.bar.set_position(0);
        self.bar.set_style(
            ProgressStyle::with_template(
                "{msg:>24} [{bar:40.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        self.bar.set_message(what.to_owned());
    }

    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }
}

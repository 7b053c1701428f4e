//! [`WatchStatus`]: where an anime sits on a fan's list, with MyAnimeList's codes and words: a
//! leaf the ratings store and the list formats both read.

use serde::{Deserialize, Serialize};

/// A MyAnimeList watching status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum WatchStatus {
    /// 1: currently watching.
    Watching = 1,
    /// 2: completed.
    Completed = 2,
    /// 3: on hold.
    OnHold = 3,
    /// 4: dropped.
    Dropped = 4,
    /// 6: plan to watch.
    PlanToWatch = 6,
}

impl WatchStatus {
    /// From MyAnimeList's numeric code.
    pub fn from_code(code: u8) -> Option<WatchStatus> {
        match code {
            1 => Some(WatchStatus::Watching),
            2 => Some(WatchStatus::Completed),
            3 => Some(WatchStatus::OnHold),
            4 => Some(WatchStatus::Dropped),
            6 => Some(WatchStatus::PlanToWatch),
            _ => None,
        }
    }

    /// From the words of a list export (`Completed`, `On-Hold`, `Plan to Watch`, ...) or a code.
    pub fn parse(text: &str) -> Option<WatchStatus> {
        let t = text
            .trim()
            .to_ascii_lowercase()
            .replace(['-', ' ', '_'], "");
        match t.as_str() {
            "watching" | "currentlywatching" => Some(WatchStatus::Watching),
            "completed" => Some(WatchStatus::Completed),
            "onhold" => Some(WatchStatus::OnHold),
            "dropped" => Some(WatchStatus::Dropped),
            "plantowatch" => Some(WatchStatus::PlanToWatch),
            _ => t.parse().ok().and_then(WatchStatus::from_code),
        }
    }

    /// The name the API and JSON use (`plan_to_watch`, `on_hold`, ...; its serde name).
    pub fn name(self) -> &'static str {
        match self {
            WatchStatus::Watching => "watching",
            WatchStatus::Completed => "completed",
            WatchStatus::OnHold => "on_hold",
            WatchStatus::Dropped => "dropped",
            WatchStatus::PlanToWatch => "plan_to_watch",
        }
    }

    /// The words MyAnimeList's export writes (`Plan to Watch`, `On-Hold`, ...).
    pub fn words(self) -> &'static str {
        match self {
            WatchStatus::Watching => "Watching",
            WatchStatus::Completed => "Completed",
            WatchStatus::OnHold => "On-Hold",
            WatchStatus::Dropped => "Dropped",
            WatchStatus::PlanToWatch => "Plan to Watch",
        }
    }

    /// The numeric code.
    pub fn code(self) -> u8 {
        self as u8
    }
}

//! Action specs as rules and the strike ladder write them: a plain name (`"kick"`) or an object with
//! parameters (`{"type": "mute", "duration": "24h", "reason": "flood"}`).

use crate::action::ActionKind;
use crate::policy::duration::{format_duration, parse_duration};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Mute length when a rule says just "mute".
pub const DEFAULT_MUTE_SECS: u64 = 86_400;
/// Slow mode interval when a rule says just "slow_mode".
pub const DEFAULT_SLOW_MODE_SECS: u64 = 30;
/// Throttle window when a rule says just "throttle".
pub const DEFAULT_THROTTLE_MINUTES: u64 = 10;

/// One action a rule or ladder step asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ActionSpec {
    pub kind: ActionKind,
    /// Overrides the rule's own explanation in the notice and audit log.
    pub reason: Option<String>,
}

impl ActionSpec {
    pub fn new(kind: ActionKind) -> Self {
        ActionSpec { kind, reason: None }
    }

    /// Parses a string or object; errors name the offending key relative to the action
    /// (`("duration", "bad duration ...")`).
    pub fn from_json(value: &Value) -> Result<ActionSpec, (String, String)> {
        match value {
            Value::String(name) => {
                kind_from_parts(name, &Map::new()).map(ActionSpec::new).map_err(|e| (String::new(), e))
            }
            Value::Object(map) => {
                let name = match map.get("type") {
                    Some(Value::String(name)) => name,
                    Some(_) => return Err(("type".into(), "must be a string".into())),
                    None => return Err(("type".into(), "missing action type".into())),
                };
                for key in map.keys() {
                    if !matches!(
                        key.as_str(),
                        "type" | "duration" | "seconds" | "minutes" | "reason"
                    ) {
                        return Err((
                            key.clone(),
                            format!("unknown key '{key}' (use duration, seconds, minutes, reason)"),
                        ));
                    }
                }
                let reason = match map.get("reason") {
                    None => None,
                    Some(Value::String(reason)) => Some(reason.clone()),
                    Some(_) => return Err(("reason".into(), "must be a string".into())),
                };
                let kind = kind_from_parts(name, map).map_err(|e| {
                    let key = ["duration", "seconds", "minutes"]
                        .into_iter()
                        .find(|k| map.contains_key(*k))
                        .unwrap_or("type");
                    (key.to_string(), e)
                })?;
                Ok(ActionSpec { kind, reason })
            }
            _ => Err((
                String::new(),
                "an action is a name like \"kick\" or an object like {\"type\": \"mute\", \"duration\": \"24h\"}".into(),
            )),
        }
    }

    /// The shortest JSON that reads back to the same spec.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        match &self.kind {
            ActionKind::Mute { seconds } if *seconds != DEFAULT_MUTE_SECS => {
                map.insert("duration".into(), format_duration(*seconds).into());
            }
            ActionKind::Ban {
                seconds: Some(seconds),
            } => {
                map.insert("duration".into(), format_duration(*seconds).into());
            }
            ActionKind::SlowMode { seconds } if *seconds != DEFAULT_SLOW_MODE_SECS => {
                map.insert("seconds".into(), (*seconds).into());
            }
            ActionKind::Throttle { minutes } if *minutes != DEFAULT_THROTTLE_MINUTES => {
                map.insert("minutes".into(), (*minutes).into());
            }
            _ => {}
        }
        if let Some(reason) = &self.reason {
            map.insert("reason".into(), reason.clone().into());
        }
        if map.is_empty() {
            Value::String(self.kind.name().into())
        } else {
            map.insert("type".into(), self.kind.name().into());
            Value::Object(map)
        }
    }
}

fn duration_param(map: &Map<String, Value>, keys: &[&str]) -> Result<Option<u64>, String> {
    for key in keys {
        match map.get(*key) {
            None => continue,
            Some(Value::Number(n)) => {
                return n
                    .as_u64()
                    .map(Some)
                    .ok_or_else(|| format!("{key} must be a whole non-negative number"));
            }
            Some(Value::String(text)) => {
                if text.eq_ignore_ascii_case("permanent") || text.eq_ignore_ascii_case("forever") {
                    return Ok(None);
                }
                return parse_duration(text).map(Some);
            }
            Some(_) => return Err(format!("{key} must be a duration like \"24h\" or seconds")),
        }
    }
    Ok(None)
}

fn kind_from_parts(name: &str, map: &Map<String, Value>) -> Result<ActionKind, String> {
    let normalized = name.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    let has = |k: &str| map.contains_key(k);
    let kind = match normalized.as_str() {
        "delete" => ActionKind::Delete,
        "delete_silently" | "delete_silent" | "silent_delete" | "delete_without_notice" => {
            ActionKind::DeleteSilently
        }
        "purge" => ActionKind::Purge,
        "warn" => ActionKind::Warn,
        "strike" => ActionKind::Strike,
        "mute" => ActionKind::Mute {
            seconds: duration_param(map, &["duration", "seconds"])?.unwrap_or(DEFAULT_MUTE_SECS),
        },
        "restrict" => ActionKind::Restrict,
        "kick" => ActionKind::Kick,
        "ban" => ActionKind::Ban {
            seconds: duration_param(map, &["duration", "seconds"])?,
        },
        "unban" => ActionKind::Unban,
        "unrestrict" | "unmute" => ActionKind::Unrestrict,
        "trust" => ActionKind::Trust,
        "label_spam" => ActionKind::LabelSpam,
        "label_ham" => ActionKind::LabelHam,
        "raid_alert" => ActionKind::RaidAlert,
        "bunker_on" | "bunker" => ActionKind::BunkerOn,
        "bunker_off" => ActionKind::BunkerOff,
        "lockdown_on" | "lockdown" => ActionKind::LockdownOn,
        "lockdown_off" => ActionKind::LockdownOff,
        "slow_mode" | "slowmode" => ActionKind::SlowMode {
            seconds: duration_param(map, &["seconds", "duration"])?
                .unwrap_or(DEFAULT_SLOW_MODE_SECS),
        },
        "notify_admin" | "notify" | "report" | "alert" => ActionKind::NotifyAdmin,
        "antispam_on" | "antispam" => ActionKind::AntiSpamOn,
        "antispam_off" => ActionKind::AntiSpamOff,
        "shadow_mute" | "shadowmute" => ActionKind::ShadowMute,
        "throttle" => {
            let minutes = match map.get("minutes") {
                Some(Value::Number(n)) => n.as_u64().ok_or("minutes must be a whole number")?,
                Some(_) => return Err("minutes must be a number".into()),
                None => duration_param(map, &["duration", "seconds"])?
                    .map(|secs| secs.div_ceil(60).max(1))
                    .unwrap_or(DEFAULT_THROTTLE_MINUTES),
            };
            ActionKind::Throttle { minutes }
        }
        _ => return Err(format!("unknown action '{name}'")),
    };
    let takes_duration = matches!(
        kind,
        ActionKind::Mute { .. }
            | ActionKind::Ban { .. }
            | ActionKind::SlowMode { .. }
            | ActionKind::Throttle { .. }
    );
    if !takes_duration && (has("duration") || has("seconds") || has("minutes")) {
        return Err(format!("action '{name}' takes no duration"));
    }
    Ok(kind)
}

impl Serialize for ActionSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for ActionSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        ActionSpec::from_json(&value).map_err(|(key, msg)| {
            if key.is_empty() {
                serde::de::Error::custom(msg)
            } else {
                serde::de::Error::custom(format!("{key}: {msg}"))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_and_objects_parse() {
        let table = [
            (json!("kick"), ActionKind::Kick),
            (json!("mute"), ActionKind::Mute { seconds: 86_400 }),
            (
                json!({"type": "mute", "duration": "2h"}),
                ActionKind::Mute { seconds: 7200 },
            ),
            (json!("ban"), ActionKind::Ban { seconds: None }),
            (
                json!({"type": "ban", "duration": "permanent"}),
                ActionKind::Ban { seconds: None },
            ),
            (
                json!({"type": "ban", "duration": "7d"}),
                ActionKind::Ban {
                    seconds: Some(604_800),
                },
            ),
            (
                json!({"type": "slow_mode", "seconds": 60}),
                ActionKind::SlowMode { seconds: 60 },
            ),
            (
                json!({"type": "throttle", "minutes": 5}),
                ActionKind::Throttle { minutes: 5 },
            ),
            (json!("delete_silent"), ActionKind::DeleteSilently),
            (json!("report"), ActionKind::NotifyAdmin),
        ];
        for (value, kind) in table {
            let spec = ActionSpec::from_json(&value).unwrap();
            assert_eq!(spec.kind, kind, "{value}");
            assert_eq!(ActionSpec::from_json(&spec.to_json()).unwrap(), spec);
        }
    }

    #[test]
    fn errors_name_the_key() {
        let (key, msg) =
            ActionSpec::from_json(&json!({"type": "mute", "duration": "3y"})).unwrap_err();
        assert_eq!(key, "duration");
        assert!(msg.contains("unknown unit"), "{msg}");
        let (key, msg) =
            ActionSpec::from_json(&json!({"type": "kick", "duration": "1h"})).unwrap_err();
        assert_eq!(key, "duration");
        assert!(msg.contains("takes no duration"), "{msg}");
        let (_, msg) = ActionSpec::from_json(&json!("kik")).unwrap_err();
        assert_eq!(msg, "unknown action 'kik'");
    }
}

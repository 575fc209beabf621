//! How a customer edited on both sides is decided. Pure logic, no I/O.
//!
//! Field by field against the merge base (the version both sides last agreed on):
//! - fields only one side changed are kept from that side;
//! - a field both sides changed to different values goes to the side with the later
//!   hybrid-logical-clock timestamp, unless the two edits are within the tie window of each
//!   other: then nobody can say which came last and a person decides (manual review).
//!
//! Without a merge base (both created the same id, or the server deleted the record) the
//! later edit wins the whole record, and edits within the tie window go to manual review.

use crate::model::hlc;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Send the device's document as the resolution (`keep_local`).
    KeepLocal,
    /// Take the server's record (`keep_server`).
    KeepServer,
    /// Send this merged document (`merged`).
    Merge(Value),
    /// A person must decide; the reason says why, in words.
    Manual(String),
}

pub struct Sides<'a> {
    pub local: &'a Value,
    pub local_hlc: i64,
    /// The server's document; `Value::Null` when the server deleted the record.
    pub server: &'a Value,
    pub server_hlc: i64,
    /// The document both last agreed on, if any.
    pub base: Option<&'a Value>,
}

pub fn decide(sides: &Sides, tie_window_ms: i64) -> Decision {
    if sides.local == sides.server {
        return Decision::KeepServer;
    }
    let gap = hlc::millis(sides.local_hlc) - hlc::millis(sides.server_hlc);
    let tie = gap.abs() <= tie_window_ms;
    let local_newer = sides.local_hlc > sides.server_hlc;
    let (Some(Value::Object(base)), Value::Object(local), Value::Object(server)) =
        (sides.base, sides.local, sides.server)
    else {
        return match (tie, local_newer) {
            (true, _) => Decision::Manual(format!(
                "the record was {} on both sides within {} ms of each other",
                if sides.server.is_null() {
                    "deleted and edited"
                } else {
                    "edited"
                },
                gap.abs()
            )),
            (false, true) => Decision::KeepLocal,
            (false, false) => Decision::KeepServer,
        };
    };
    let local_changed = changed_fields(base, local);
    let server_changed = changed_fields(base, server);
    let contested: Vec<&String> = local_changed
        .intersection(&server_changed)
        .filter(|k| local.get(k.as_str()) != server.get(k.as_str()))
        .copied()
        .collect();
    if !contested.is_empty() && tie {
        let names: Vec<&str> = contested.iter().map(|k| k.as_str()).collect();
        return Decision::Manual(format!(
            "both sides changed {} within {} ms of each other",
            names.join(", "),
            gap.abs()
        ));
    }
    let mut merged = server.clone();
    for key in &local_changed {
        if contested.contains(key) && !local_newer {
            continue;
        }
        match local.get(*key) {
            Some(v) => merged.insert((*key).clone(), v.clone()),
            None => merged.remove(*key),
        };
    }
    if &merged == server {
        Decision::KeepServer
    } else if &merged == local {
        Decision::KeepLocal
    } else {
        Decision::Merge(Value::Object(merged))
    }
}

fn changed_fields<'a>(
    base: &'a Map<String, Value>,
    doc: &'a Map<String, Value>,
) -> BTreeSet<&'a String> {
    base.keys()
        .chain(doc.keys())
        .filter(|k| base.get(*k) != doc.get(*k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TIE: i64 = 2_000;

    fn at(ms: i64) -> i64 {
        hlc::pack(ms, 0)
    }

    fn decide_at(
        local: Value,
        local_ms: i64,
        server: Value,
        server_ms: i64,
        base: Option<Value>,
    ) -> Decision {
        decide(
            &Sides {
                local: &local,
                local_hlc: at(local_ms),
                server: &server,
                server_hlc: at(server_ms),
                base: base.as_ref(),
            },
            TIE,
        )
    }

    fn base() -> Value {
        json!({"id":"c","name":"Ann","phone":"1","email":"a@x"})
    }

    #[test]
    fn later_edit_of_the_same_field_wins() {
        let local = json!({"id":"c","name":"Ann","phone":"2","email":"a@x"});
        let server = json!({"id":"c","name":"Ann","phone":"3","email":"a@x"});
        assert_eq!(
            decide_at(local.clone(), 100_000, server.clone(), 50_000, Some(base())),
            Decision::KeepLocal
        );
        assert_eq!(
            decide_at(local, 50_000, server, 100_000, Some(base())),
            Decision::KeepServer
        );
    }

    #[test]
    fn different_fields_merge_whatever_the_timestamps() {
        let local = json!({"id":"c","name":"Ann","phone":"2","email":"a@x"});
        let server = json!({"id":"c","name":"Anne","phone":"1","email":"a@x"});
        let merged = json!({"id":"c","name":"Anne","phone":"2","email":"a@x"});
        for (l, s) in [(1_000, 1_500), (100_000, 1_000), (1_000, 100_000)] {
            assert_eq!(
                decide_at(local.clone(), l, server.clone(), s, Some(base())),
                Decision::Merge(merged.clone())
            );
        }
    }

    #[test]
    fn same_field_within_the_tie_window_needs_a_person() {
        let local = json!({"id":"c","name":"Ann","phone":"2","email":"a@x"});
        let server = json!({"id":"c","name":"Ann","phone":"3","email":"a@x"});
        match decide_at(local, 10_000, server, 11_500, Some(base())) {
            Decision::Manual(reason) => assert!(
                reason.contains("phone") && reason.contains("1500 ms"),
                "{reason}"
            ),
            other => panic!("expected manual review, got {other:?}"),
        }
    }

    #[test]
    fn same_value_on_both_sides_is_no_conflict() {
        let same = json!({"id":"c","name":"Ann","phone":"9","email":"a@x"});
        assert_eq!(
            decide_at(same.clone(), 1, same, 1, Some(base())),
            Decision::KeepServer
        );
    }

    #[test]
    fn without_a_base_the_later_edit_wins_the_whole_record() {
        let local = json!({"id":"c","name":"Local"});
        let server = json!({"id":"c","name":"Server"});
        assert_eq!(
            decide_at(local.clone(), 100_000, server.clone(), 1, None),
            Decision::KeepLocal
        );
        assert_eq!(
            decide_at(local.clone(), 1, server.clone(), 100_000, None),
            Decision::KeepServer
        );
        assert!(matches!(
            decide_at(local.clone(), 5_000, server, 5_100, None),
            Decision::Manual(_)
        ));
        // Deleted on the server: same rule.
        assert_eq!(
            decide_at(local.clone(), 1, Value::Null, 100_000, Some(base())),
            Decision::KeepServer
        );
        match decide_at(local, 1_000, Value::Null, 1_000, Some(base())) {
            Decision::Manual(r) => assert!(r.contains("deleted and edited"), "{r}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn removed_fields_count_as_changes() {
        let local = json!({"id":"c","name":"Ann","phone":"1"}); // email removed locally
        let server = json!({"id":"c","name":"Ann B","phone":"1","email":"a@x"});
        assert_eq!(
            decide_at(local, 1, server, 100_000, Some(base())),
            Decision::Merge(json!({"id":"c","name":"Ann B","phone":"1"}))
        );
    }
}

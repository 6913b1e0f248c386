//! Step-by-step comparison of two [`Doc`]s.
//!
//! Tasks are matched by group, kind, namespace and name (generateName hooks by their
//! generateName); a hook in two phases is two tasks, matched phase to phase first.
use super::model::{phase_rank, Doc, StepM, TaskM};
use super::{Change, Diff, Options, StepDiff, StepRef, TaskRef};
use std::collections::BTreeMap;

/// Where a task sits: step index and position in the step.
#[derive(Debug, Clone, Copy)]
struct At {
    step: usize,
    pos: usize,
}

fn step_ref(s: &StepM) -> StepRef {
    StepRef {
        phase: s.phase.clone(),
        wave: s.wave,
    }
}

fn task_ref(t: &TaskM) -> TaskRef {
    TaskRef {
        group: t.group.clone(),
        kind: t.kind.clone(),
        namespace: t.namespace.clone(),
        name: t.name.clone(),
    }
}

type Key<'a> = (&'a str, &'a str, &'a str, &'a str);

fn key(t: &TaskM) -> Key<'_> {
    (&t.group, &t.kind, &t.namespace, &t.match_name)
}

fn index(doc: &Doc) -> BTreeMap<Key<'_>, Vec<At>> {
    let mut m: BTreeMap<Key, Vec<At>> = BTreeMap::new();
    for (si, s) in doc.steps.iter().enumerate() {
        for (pos, t) in s.tasks.iter().enumerate() {
            m.entry(key(t)).or_default().push(At { step: si, pos });
        }
    }
    m
}

/// Pairs the occurrences of one key: same phase first, then in order.
fn pair(a: &Doc, b: &Doc, xs: &[At], ys: &[At]) -> (Vec<(At, At)>, Vec<At>, Vec<At>) {
    let mut used_b = vec![false; ys.len()];
    let mut pairs = Vec::new();
    let mut rest_a = Vec::new();
    for &x in xs {
        let phase = &a.steps[x.step].phase;
        match (0..ys.len()).find(|&j| !used_b[j] && &b.steps[ys[j].step].phase == phase) {
            Some(j) => {
                used_b[j] = true;
                pairs.push((x, ys[j]));
            }
            None => rest_a.push(x),
        }
    }
    let mut rest_b: Vec<At> = (0..ys.len())
        .filter(|&j| !used_b[j])
        .map(|j| ys[j])
        .collect();
    let n = rest_a.len().min(rest_b.len());
    pairs.extend(rest_a.drain(..n).zip(rest_b.drain(..n)));
    (pairs, rest_a, rest_b)
}

/// Positions (in `seq`) not on a longest common subsequence of `seq` and `sorted`: the tasks
/// whose order changed.
fn out_of_order(seq: &[usize]) -> Vec<usize> {
    // `seq` holds each task's B position in A order; the longest increasing subsequence stays.
    let n = seq.len();
    let mut len = vec![1usize; n];
    let mut prev = vec![usize::MAX; n];
    for i in 0..n {
        for j in 0..i {
            if seq[j] < seq[i] && len[j] + 1 > len[i] {
                len[i] = len[j] + 1;
                prev[i] = j;
            }
        }
    }
    let mut keep = vec![false; n];
    if let Some(mut i) = (0..n).max_by_key(|&i| (len[i], std::cmp::Reverse(i))) {
        loop {
            keep[i] = true;
            if prev[i] == usize::MAX {
                break;
            }
            i = prev[i];
        }
    }
    (0..n).filter(|&i| !keep[i]).collect()
}

fn duration_changed(from: f64, to: f64, o: &Options) -> bool {
    let d = (to - from).abs();
    d >= o.min_seconds && (from <= 0.0 || d * 100.0 >= o.percent * from)
}

/// Compares `a` with `b`, step by step.
pub fn compare(a: &Doc, b: &Doc, o: &Options) -> Diff {
    let mut by_step: BTreeMap<(u8, i64, String), Vec<Change>> = BTreeMap::new();
    let mut push = |s: &StepM, c: Change| {
        by_step
            .entry((phase_rank(&s.phase), s.wave, s.phase.clone()))
            .or_default()
            .push(c)
    };
    let (ia, ib) = (index(a), index(b));
    let mut pairs: Vec<(At, At)> = Vec::new();
    let mut removed: Vec<At> = Vec::new();
    let mut added: Vec<At> = Vec::new();
    for (k, xs) in &ia {
        let (p, ra, rb) = pair(a, b, xs, ib.get(k).map_or(&[][..], Vec::as_slice));
        pairs.extend(p);
        removed.extend(ra);
        added.extend(rb);
    }
    for (k, ys) in &ib {
        if !ia.contains_key(k) {
            added.extend(ys);
        }
    }
    let ta = |x: At| &a.steps[x.step].tasks[x.pos];
    let tb = |y: At| &b.steps[y.step].tasks[y.pos];

    for &x in &removed {
        push(
            &a.steps[x.step],
            Change::Removed {
                task: task_ref(ta(x)),
            },
        );
    }
    for &y in &added {
        push(
            &b.steps[y.step],
            Change::Added {
                task: task_ref(tb(y)),
            },
        );
    }
    pairs.sort_by_key(|&(_, y)| (y.step, y.pos));
    for &(x, y) in &pairs {
        let (sa, sb) = (&a.steps[x.step], &b.steps[y.step]);
        let (t, u) = (ta(x), tb(y));
        let task = task_ref(u);
        if (sa.phase.as_str(), sa.wave) != (sb.phase.as_str(), sb.wave) {
            push(
                sb,
                Change::Moved {
                    task: task.clone(),
                    from: step_ref(sa),
                    to: step_ref(sb),
                },
            );
        }
        if t.hook != u.hook {
            push(
                sb,
                Change::Hook {
                    task: task.clone(),
                    from: t.hook,
                    to: u.hook,
                },
            );
        }
        if let (Some(p), Some(q)) = (&t.delete_policies, &u.delete_policies) {
            let (mut p, mut q) = (p.clone(), q.clone());
            p.sort();
            q.sort();
            if p != q {
                push(
                    sb,
                    Change::DeletePolicies {
                        task: task.clone(),
                        from: p,
                        to: q,
                    },
                );
            }
        }
        if let (Some(p), Some(q)) = (&t.sync_options, &u.sync_options) {
            if p != q {
                push(
                    sb,
                    Change::SyncOptions {
                        task: task.clone(),
                        from: p.clone(),
                        to: q.clone(),
                    },
                );
            }
        }
        for ((field, from), (_, to)) in t.results.iter().zip(&u.results) {
            if from != to {
                push(
                    sb,
                    Change::Result {
                        task: task.clone(),
                        field,
                        from: from.clone(),
                        to: to.clone(),
                    },
                );
            }
        }
    }

    // Order inside the steps both sides have: tasks that stayed in the step but changed place
    // relative to the others (kind order, a new kind rank, a renamed object).
    for (si, sa) in a.steps.iter().enumerate() {
        let Some((sj, sb)) = b
            .steps
            .iter()
            .enumerate()
            .find(|(_, s)| s.phase == sa.phase && s.wave == sa.wave)
        else {
            continue;
        };
        let mut common: Vec<(At, At)> = pairs
            .iter()
            .copied()
            .filter(|(x, y)| x.step == si && y.step == sj)
            .collect();
        common.sort_by_key(|(x, _)| x.pos);
        let seq: Vec<usize> = common.iter().map(|(_, y)| y.pos).collect();
        let mut moved = out_of_order(&seq);
        moved.sort_by_key(|&i| common[i].1.pos);
        for i in moved {
            let (x, y) = common[i];
            push(
                sb,
                Change::Reordered {
                    task: task_ref(tb(y)),
                    from: x.pos + 1,
                    to: y.pos + 1,
                },
            );
        }
        if let (Some(p), Some(q)) = (&sa.status, &sb.status) {
            if p != q {
                push(
                    sb,
                    Change::StepStatus {
                        from: p.clone(),
                        to: q.clone(),
                    },
                );
            }
        }
        if let (Some(p), Some(q)) = (sa.duration, sb.duration) {
            if duration_changed(p, q, o) {
                push(sb, Change::Duration { from: p, to: q });
            }
        }
    }

    let mut operation = Vec::new();
    if let (Some(p), Some(q)) = (&a.operation, &b.operation) {
        for (field, from, to) in [
            ("outcome", &p.outcome, &q.outcome),
            ("phase", &p.phase, &q.phase),
            ("message", &p.message, &q.message),
        ] {
            if from != to {
                operation.push(Change::Operation {
                    field,
                    from: from.clone(),
                    to: to.clone(),
                });
            }
        }
        if let (Some(f), Some(t)) = (p.duration, q.duration) {
            if duration_changed(f, t, o) {
                operation.push(Change::Duration { from: f, to: t });
            }
        }
    }
    Diff {
        a_kind: a.kind,
        b_kind: b.kind,
        steps: by_step
            .into_iter()
            .map(|((_, wave, phase), changes)| StepDiff {
                step: StepRef { phase, wave },
                changes,
            })
            .collect(),
        operation,
    }
}

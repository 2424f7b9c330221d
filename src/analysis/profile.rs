//! Latency profiles: where scheduler waits, blocking and syscalls began,
//! aggregated over call stacks for a flame graph.
//!
//! A latency outlier says *that* goroutines waited; the profile says *from
//! where*. As in Go's `cmd/trace` pprof profiles, each closed interval of
//! the [`PROFILED`] kinds adds its duration (and a count of one) to the stack
//! of the event that opened it: the blocking call, the syscall, or for a
//! scheduler wait whoever made the goroutine runnable (its creator, its
//! unblocker, or the goroutine itself when it was preempted). The intervals
//! are exactly those of the latency histograms, so a kind's profile total is
//! its histogram's sum. (Go's block profile keeps only channel, select and
//! sync reasons; here every block reason counts, as in the outliers panel.)
//!
//! Stacks are identified per generation in the trace, so they are interned
//! across generations by their frames — function, file and line — into a
//! trie: node 0 is the root, a node is a call path from the outermost
//! frame, and an interval's [`StackId`] is the node of its whole stack.
//! Memory is bounded by the distinct call paths, not by the events: the
//! trie has at most [`MAX_NODES`] nodes. Interning walks the frames once
//! per distinct stack per generation (a per-generation cache maps the
//! trace's stack IDs, and PCs, to what was interned), so the cost per
//! opened interval is one hash lookup.
//!
//! While building, a node holds the weight of the stacks ending at it;
//! [`ProfileBuilder::finish`] adds each node's weight to its ancestors (a
//! child is always created after its parent, so one backward pass does it)
//! and lists each node's children, in name order, for drawing.

use super::labels::{Label, Labels, Relabel};
use super::latency::LatencyKind;
use super::step::Frames;
use crate::trace::{FxHashMap, StackFrame, Time};

/// Most nodes of the stack trie. About 110 bytes each while building (node
/// and lookup entry), so at most about 15 MB, while a program's wait sites
/// rarely need more than tens of thousands (the gigabyte benchmark trace,
/// 170 M events, needs about 2,200). A stack met when the trie is full is
/// cut at its deepest known caller: the totals stay exact, the detail below
/// that frame is lost, and [`Profile::cut`] counts the intervals concerned.
const MAX_NODES: usize = 1 << 17;

/// The kinds of latency that have a profile: the goroutine waits that begin
/// at a call site.
pub const PROFILED: [LatencyKind; 3] =
    [LatencyKind::Sched, LatencyKind::Block, LatencyKind::Syscall];

/// The slot of a profiled kind in per-kind arrays.
fn slot(kind: LatencyKind) -> Option<usize> {
    PROFILED.iter().position(|&k| k == kind)
}

/// A call path of the profile: a node of its trie.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StackId(u32);

impl StackId {
    /// The root: the empty call path, above every stack (and the stack of
    /// intervals whose opening event had none).
    pub const ROOT: StackId = StackId(0);

    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

/// One frame of a call path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    /// Function name.
    pub function: Label,
    /// Source file.
    pub file: Label,
    /// Line in the file.
    pub line: u64,
}

/// Time and number of intervals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Weight {
    /// Total duration, nanoseconds.
    pub time: Time,
    /// Number of intervals.
    pub count: u64,
}

impl Weight {
    fn add(&mut self, other: Weight) {
        self.time = self.time.saturating_add(other.time);
        self.count += other.count;
    }
}

/// Where an open interval began: its stack, and whether the stack was cut
/// short because the trie was full.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Origin {
    /// The node of the (possibly cut) stack.
    pub stack: StackId,
    cut: bool,
}

impl Origin {
    /// This origin in a builder that absorbed its own, given where each of
    /// its nodes went (see [`ProfileBuilder::absorb`]).
    pub fn moved(self, nodes: &[Origin]) -> Origin {
        let to = nodes.get(self.stack.index()).copied().unwrap_or_default();
        Origin {
            stack: to.stack,
            cut: self.cut || to.cut,
        }
    }
}

/// A node of the trie: its frame, its parent, and weights per profiled kind
/// (while building, of the stacks ending here; once finished, of all the
/// stacks through it).
#[derive(Clone, Debug)]
struct Node {
    parent: StackId,
    frame: Frame,
    weight: [Weight; PROFILED.len()],
}

/// The streaming side: interns the stacks intervals open at and adds up
/// the intervals as they close.
#[derive(Debug)]
pub(crate) struct ProfileBuilder {
    nodes: Vec<Node>,
    /// The child of a node with a given frame.
    children: FxHashMap<(StackId, Frame), StackId>,
    /// This generation's stacks interned so far, by the trace's ID.
    stacks: FxHashMap<u64, Origin>,
    /// This generation's frames interned so far, by PC.
    frames: FxHashMap<u64, Frame>,
    /// The frames of the stack being interned, innermost first.
    path: Vec<Frame>,
    /// What was added to cut stacks, per kind.
    cut: [Weight; PROFILED.len()],
}

impl Default for ProfileBuilder {
    fn default() -> Self {
        let root = Node {
            parent: StackId::ROOT,
            frame: Frame {
                function: Label::EMPTY,
                file: Label::EMPTY,
                line: 0,
            },
            weight: [Weight::default(); PROFILED.len()],
        };
        ProfileBuilder {
            nodes: vec![root],
            children: FxHashMap::default(),
            stacks: FxHashMap::default(),
            frames: FxHashMap::default(),
            path: Vec::new(),
            cut: [Weight::default(); PROFILED.len()],
        }
    }
}

impl ProfileBuilder {
    /// A new generation begins: its stack IDs and PCs mean new things.
    pub fn new_generation(&mut self) {
        self.stacks.clear();
        self.frames.clear();
    }

    /// The call path of `stack`, added to the trie if new.
    pub fn intern(&mut self, stack: &Frames<'_>, labels: &mut Labels) -> Origin {
        let id = stack.id();
        if let Some(origin) = id.and_then(|id| self.stacks.get(&id)) {
            return *origin;
        }
        let mut path = std::mem::take(&mut self.path);
        path.clear();
        stack.for_each(|f| path.push(self.frame(f, id.is_some(), labels)));
        let origin = self.insert(&path);
        self.path = path;
        if let Some(id) = id {
            self.stacks.insert(id, origin);
        }
        origin
    }

    /// The interned frame of `f`, cached by PC if `cache` (PCs of this
    /// generation mean one frame each).
    fn frame(&mut self, f: StackFrame<'_>, cache: bool, labels: &mut Labels) -> Frame {
        if let Some(frame) = self.frames.get(&f.pc).filter(|_| cache) {
            return *frame;
        }
        let frame = Frame {
            function: labels.intern(f.func),
            file: labels.intern(f.file),
            line: f.line,
        };
        if cache {
            self.frames.insert(f.pc, frame);
        }
        frame
    }

    /// The node of the call path of `frames` (innermost first), from the
    /// root down as far as the node budget allows.
    fn insert(&mut self, frames: &[Frame]) -> Origin {
        let mut origin = Origin::default();
        for &frame in frames.iter().rev() {
            origin = self.child(origin.stack, frame);
            if origin.cut {
                break;
            }
        }
        origin
    }

    /// The child of `node` with `frame`, added if new and the budget
    /// allows; else `node`, cut.
    fn child(&mut self, node: StackId, frame: Frame) -> Origin {
        if let Some(&child) = self.children.get(&(node, frame)) {
            return Origin {
                stack: child,
                cut: false,
            };
        }
        let id = match u32::try_from(self.nodes.len()) {
            Ok(id) if self.nodes.len() < MAX_NODES => StackId(id),
            _ => {
                return Origin {
                    stack: node,
                    cut: true,
                };
            }
        };
        self.nodes.push(Node {
            parent: node,
            frame,
            weight: [Weight::default(); PROFILED.len()],
        });
        self.children.insert((node, frame), id);
        Origin {
            stack: id,
            cut: false,
        }
    }

    /// Adds the call paths and weights of `other`, whose frames are named
    /// by labels that `labels` maps to this builder's; returns where each
    /// of its nodes is here, by index. A path the node budget cuts here
    /// counts as cut (an interval already cut in `other` then counts
    /// twice in [`Profile::cut`]: only when both tries are full).
    pub fn absorb(&mut self, other: &ProfileBuilder, labels: &Relabel) -> Vec<Origin> {
        let mut map: Vec<Origin> = Vec::with_capacity(other.nodes.len());
        for (i, node) in other.nodes.iter().enumerate() {
            // A parent always precedes its children.
            let parent = map.get(node.parent.index()).copied().unwrap_or_default();
            let origin = if i == 0 || parent.cut {
                parent
            } else {
                let frame = Frame {
                    function: labels.get(node.frame.function),
                    file: labels.get(node.frame.file),
                    line: node.frame.line,
                };
                self.child(parent.stack, frame)
            };
            for (k, &w) in node.weight.iter().enumerate() {
                self.add_weight(origin, k, w);
            }
            map.push(origin);
        }
        for (total, w) in self.cut.iter_mut().zip(other.cut) {
            total.add(w);
        }
        map
    }

    /// Adds an interval of `kind` that began at `origin` and lasted
    /// `duration`; kinds without a profile are ignored.
    pub fn add(&mut self, kind: LatencyKind, origin: Origin, duration: Time) {
        if let Some(k) = slot(kind) {
            let weight = Weight {
                time: duration,
                count: 1,
            };
            self.add_weight(origin, k, weight);
        }
    }

    /// Adds `weight` to the profiled kind in slot `k` at `origin`.
    fn add_weight(&mut self, origin: Origin, k: usize, weight: Weight) {
        if weight == Weight::default() {
            return;
        }
        if let Some(node) = self.nodes.get_mut(origin.stack.index()) {
            node.weight[k].add(weight);
        }
        if origin.cut
            && let Some(cut) = self.cut.get_mut(k)
        {
            cut.add(weight);
        }
    }

    /// The profile: weights through each node, children in name order.
    pub fn finish(self, labels: &Labels) -> Profile {
        let mut nodes = self.nodes;
        for i in (1..nodes.len()).rev() {
            let (parent, weight) = (nodes[i].parent.index(), nodes[i].weight);
            if let Some(p) = nodes.get_mut(parent) {
                for (total, w) in p.weight.iter_mut().zip(weight) {
                    total.add(w);
                }
            }
        }
        let mut order: Vec<StackId> = (1..nodes.len() as u32).map(StackId).collect();
        order.sort_by(|a, b| {
            let (x, y) = (&nodes[a.index()], &nodes[b.index()]);
            x.parent
                .cmp(&y.parent)
                .then_with(|| {
                    labels
                        .bytes(x.frame.function)
                        .cmp(labels.bytes(y.frame.function))
                })
                .then_with(|| labels.bytes(x.frame.file).cmp(labels.bytes(y.frame.file)))
                .then(x.frame.line.cmp(&y.frame.line))
        });
        let mut first_child = vec![0; nodes.len() + 1];
        for id in &order {
            first_child[nodes[id.index()].parent.index() + 1] += 1;
        }
        for i in 1..first_child.len() {
            first_child[i] += first_child[i - 1];
        }
        Profile {
            nodes,
            first_child,
            children: order,
            cut: self.cut,
        }
    }
}

/// Where the waits of each profiled kind began: a trie of call paths from
/// the outermost frame, weighted by the intervals whose stacks pass
/// through each.
#[derive(Clone, Debug)]
pub struct Profile {
    nodes: Vec<Node>,
    /// The children of node `i` are `children[first_child[i]..first_child[i + 1]]`.
    first_child: Vec<usize>,
    children: Vec<StackId>,
    cut: [Weight; PROFILED.len()],
}

impl Profile {
    /// The intervals of `kind` whose stacks pass through `node` (all of them
    /// for the root); nothing for kinds without a profile.
    pub fn weight(&self, node: StackId, kind: LatencyKind) -> Weight {
        let k = slot(kind);
        self.nodes
            .get(node.index())
            .zip(k)
            .map_or(Weight::default(), |(n, k)| n.weight[k])
    }

    /// All the intervals of `kind`.
    pub fn total(&self, kind: LatencyKind) -> Weight {
        self.weight(StackId::ROOT, kind)
    }

    /// The intervals of `kind` whose stacks end at `node`: its weight less
    /// its children's.
    pub fn own(&self, node: StackId, kind: LatencyKind) -> Weight {
        let mut own = self.weight(node, kind);
        for &child in self.children(node) {
            let w = self.weight(child, kind);
            own.time = own.time.saturating_sub(w.time);
            own.count = own.count.saturating_sub(w.count);
        }
        own
    }

    /// The innermost frame of `node`'s call path; `None` for the root.
    pub fn frame(&self, node: StackId) -> Option<Frame> {
        (node != StackId::ROOT).then(|| self.nodes.get(node.index()).map(|n| n.frame))?
    }

    /// The call path `node` extends; `None` for the root.
    pub fn parent(&self, node: StackId) -> Option<StackId> {
        (node != StackId::ROOT).then(|| self.nodes.get(node.index()).map(|n| n.parent))?
    }

    /// The call paths one frame deeper than `node`, in function name order.
    pub fn children(&self, node: StackId) -> &[StackId] {
        let i = node.index();
        match (self.first_child.get(i), self.first_child.get(i + 1)) {
            (Some(&a), Some(&b)) => self.children.get(a..b).unwrap_or_default(),
            _ => &[],
        }
    }

    /// Whether the call path `stack` passes through `node`: `node` is
    /// `stack` or one of its callers.
    pub fn passes_through(&self, stack: StackId, node: StackId) -> bool {
        let mut at = Some(stack);
        while let Some(n) = at {
            if n == node {
                return true;
            }
            at = self.parent(n);
        }
        false
    }

    /// The intervals of `kind` whose stacks were cut short because the trie
    /// was full (counted at their deepest known caller).
    pub fn cut(&self, kind: LatencyKind) -> Weight {
        slot(kind).map_or(Weight::default(), |k| self.cut[k])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(func: &'static str, line: u64) -> StackFrame<'static> {
        StackFrame {
            pc: line,
            func: func.as_bytes(),
            file: b"x.go",
            line,
        }
    }

    /// The functions of `node`'s call path, outermost first.
    fn path(p: &Profile, labels: &Labels, node: StackId) -> Vec<String> {
        let mut names = Vec::new();
        let mut at = Some(node);
        while let Some(n) = at {
            names.extend(p.frame(n).map(|f| labels.text(f.function)));
            at = p.parent(n);
        }
        names.reverse();
        names
    }

    #[test]
    fn stacks_share_callers_and_weights_add_up() {
        let mut labels = Labels::default();
        let mut b = ProfileBuilder::default();
        let recv = [frame("chanrecv", 3), frame("worker", 2), frame("main", 1)];
        let send = [frame("chansend", 4), frame("worker", 2), frame("main", 1)];
        let other_line = [frame("worker", 9), frame("main", 1)];
        let r = b.intern(&Frames::List(&recv), &mut labels);
        let s = b.intern(&Frames::List(&send), &mut labels);
        let o = b.intern(&Frames::List(&other_line), &mut labels);
        assert_eq!(b.intern(&Frames::List(&recv), &mut labels), r);
        let none = b.intern(&Frames::None, &mut labels);
        assert_eq!(none.stack, StackId::ROOT);
        b.add(LatencyKind::Block, r, 10);
        b.add(LatencyKind::Block, r, 5);
        b.add(LatencyKind::Block, s, 7);
        b.add(LatencyKind::Sched, o, 100);
        b.add(LatencyKind::Sched, none, 1);
        b.add(LatencyKind::Region, s, 1000);
        let p = b.finish(&labels);

        assert_eq!(path(&p, &labels, r.stack), ["main", "worker", "chanrecv"]);
        assert_eq!(p.total(LatencyKind::Block), Weight { time: 22, count: 3 });
        assert_eq!(
            p.total(LatencyKind::Sched),
            Weight {
                time: 101,
                count: 2
            }
        );
        assert_eq!(p.total(LatencyKind::Region), Weight::default());
        assert_eq!(p.own(StackId::ROOT, LatencyKind::Sched).time, 1);
        let main = p.children(StackId::ROOT);
        assert_eq!(main.len(), 1);
        // Two lines of `worker` are two call paths, in name then line order.
        let workers = p.children(main[0]);
        assert_eq!(workers.len(), 2);
        assert_eq!(p.frame(workers[0]).map(|f| f.line), Some(2));
        assert_eq!(p.weight(workers[0], LatencyKind::Block).time, 22);
        assert_eq!(p.weight(workers[1], LatencyKind::Sched).time, 100);
        let leaves: Vec<String> = p
            .children(workers[0])
            .iter()
            .map(|&n| path(&p, &labels, n).concat())
            .collect();
        assert_eq!(leaves, ["mainworkerchanrecv", "mainworkerchansend"]);
        assert!(p.passes_through(r.stack, workers[0]));
        assert!(!p.passes_through(r.stack, workers[1]));
        assert!(p.passes_through(o.stack, StackId::ROOT));
        assert_eq!(p.cut(LatencyKind::Block), Weight::default());
    }

    #[test]
    fn a_full_trie_cuts_new_stacks_but_keeps_totals() {
        let mut labels = Labels::default();
        let mut b = ProfileBuilder::default();
        let names: Vec<String> = (0..MAX_NODES).map(|i| format!("f{i}")).collect();
        let deep: Vec<StackFrame<'_>> = names
            .iter()
            .enumerate()
            .map(|(i, n)| StackFrame {
                pc: i as u64,
                func: n.as_bytes(),
                file: b"",
                line: 0,
            })
            .collect();
        let full = b.intern(&Frames::List(&deep), &mut labels);
        assert!(full.cut, "the root and {MAX_NODES} frames do not fit");
        let outer = &deep[1..];
        let fits = b.intern(&Frames::List(&deep[deep.len() - 1..]), &mut labels);
        assert!(!fits.cut, "a known call path needs no new node");
        let tail = [frame("elsewhere", 1)];
        let cut = b.intern(&Frames::List(&tail), &mut labels);
        assert_eq!((cut.stack, cut.cut), (StackId::ROOT, true));
        b.add(LatencyKind::Syscall, cut, 5);
        b.add(LatencyKind::Syscall, full, 3);
        b.add(LatencyKind::Syscall, fits, 1);
        let p = b.finish(&labels);
        assert_eq!(p.total(LatencyKind::Syscall).time, 9);
        assert_eq!(p.cut(LatencyKind::Syscall), Weight { time: 8, count: 2 });
        assert_eq!(path(&p, &labels, full.stack).len(), outer.len());
    }
}

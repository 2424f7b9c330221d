//! Resources (goroutines, Ps, threads) and their states, as the event model
//! exposes them.

use std::fmt;

use super::base::{GoId, ProcId, ThreadId};
use super::tracev2::{GoStatus, ProcStatus};

/// The state of a goroutine.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum GoState {
    /// Nothing is known (first generation of the trace).
    Undetermined,
    /// Does not exist.
    NotExist,
    /// Runnable, not running.
    Runnable,
    /// Running.
    Running,
    /// Blocked.
    Waiting,
    /// In a system call.
    Syscall,
    /// A value Go would print as "Bad".
    Bad,
}

impl GoState {
    /// From the numbering of Go's `trace.GoState`.
    pub(crate) fn from_code(code: u64) -> GoState {
        match code {
            0 => GoState::Undetermined,
            1 => GoState::NotExist,
            2 => GoState::Runnable,
            3 => GoState::Running,
            4 => GoState::Waiting,
            5 => GoState::Syscall,
            _ => GoState::Bad,
        }
    }

    /// The numbering of Go's `trace.GoState`.
    pub(crate) fn code(self) -> u64 {
        match self {
            GoState::Undetermined => 0,
            GoState::NotExist => 1,
            GoState::Runnable => 2,
            GoState::Running => 3,
            GoState::Waiting => 4,
            GoState::Syscall => 5,
            GoState::Bad => 6,
        }
    }

    /// The state a wire status stands for (`Bad` maps to `Undetermined`,
    /// as in Go's table).
    pub(crate) fn from_status(s: GoStatus) -> GoState {
        match s {
            GoStatus::RUNNABLE => GoState::Runnable,
            GoStatus::RUNNING => GoState::Running,
            GoStatus::WAITING => GoState::Waiting,
            GoStatus::SYSCALL => GoState::Syscall,
            GoStatus::BAD => GoState::Undetermined,
            _ => GoState::Bad,
        }
    }

    /// Whether the goroutine is on a thread (running or in a syscall).
    pub fn executing(self) -> bool {
        matches!(self, GoState::Running | GoState::Syscall)
    }
}

impl GoState {
    /// The name Go prints.
    pub fn name(self) -> &'static str {
        match self {
            GoState::Undetermined => "Undetermined",
            GoState::NotExist => "NotExist",
            GoState::Runnable => "Runnable",
            GoState::Running => "Running",
            GoState::Waiting => "Waiting",
            GoState::Syscall => "Syscall",
            GoState::Bad => "Bad",
        }
    }
}

impl fmt::Display for GoState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The state of a P.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum ProcState {
    /// Nothing is known (first generation of the trace).
    Undetermined,
    /// Does not exist.
    NotExist,
    /// Running (possibly on behalf of a goroutine in a syscall).
    Running,
    /// Idle.
    Idle,
    /// A value Go would print as "Bad".
    Bad,
}

impl ProcState {
    /// From the numbering of Go's `trace.ProcState`.
    pub(crate) fn from_code(code: u64) -> ProcState {
        match code {
            0 => ProcState::Undetermined,
            1 => ProcState::NotExist,
            2 => ProcState::Running,
            3 => ProcState::Idle,
            _ => ProcState::Bad,
        }
    }

    /// The numbering of Go's `trace.ProcState`.
    pub(crate) fn code(self) -> u64 {
        match self {
            ProcState::Undetermined => 0,
            ProcState::NotExist => 1,
            ProcState::Running => 2,
            ProcState::Idle => 3,
            ProcState::Bad => 4,
        }
    }

    /// The state a wire status stands for.
    pub(crate) fn from_status(s: ProcStatus) -> ProcState {
        match s {
            ProcStatus::RUNNING | ProcStatus::SYSCALL => ProcState::Running,
            ProcStatus::IDLE | ProcStatus::SYSCALL_ABANDONED => ProcState::Idle,
            ProcStatus::BAD => ProcState::Undetermined,
            _ => ProcState::Bad,
        }
    }

    /// Whether the P is running.
    pub fn executing(self) -> bool {
        self == ProcState::Running
    }
}

impl ProcState {
    /// The name Go prints.
    pub fn name(self) -> &'static str {
        match self {
            ProcState::Undetermined => "Undetermined",
            ProcState::NotExist => "NotExist",
            ProcState::Running => "Running",
            ProcState::Idle => "Idle",
            ProcState::Bad => "Bad",
        }
    }
}

impl fmt::Display for ProcState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A resource an event, range or label is about.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Hash)]
pub enum ResourceId {
    /// No resource (globally scoped).
    None,
    /// A goroutine.
    Goroutine(GoId),
    /// A P.
    Proc(ProcId),
    /// A thread.
    Thread(ThreadId),
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourceId::None => f.write_str("None"),
            ResourceId::Goroutine(id) => write!(f, "Goroutine({id})"),
            ResourceId::Proc(id) => write!(f, "Proc({id})"),
            ResourceId::Thread(id) => write!(f, "Thread({id})"),
        }
    }
}

/// A change of state of a goroutine or P.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Transition {
    /// A goroutine changed state.
    Goroutine {
        /// Which goroutine.
        id: GoId,
        /// State before.
        from: GoState,
        /// State after.
        to: GoState,
    },
    /// A P changed state.
    Proc {
        /// Which P.
        id: ProcId,
        /// State before.
        from: ProcState,
        /// State after.
        to: ProcState,
    },
}

impl Transition {
    /// The resource that changed state.
    pub fn resource(&self) -> ResourceId {
        match *self {
            Transition::Goroutine { id, .. } => ResourceId::Goroutine(id),
            Transition::Proc { id, .. } => ResourceId::Proc(id),
        }
    }
}

import Foundation

/// The two kinds of iOS background task the engine uses.
public enum BackgroundTaskKind: String, Sendable, CaseIterable {
    /// `BGAppRefreshTask` (Info.plist background mode `fetch`): about 30 seconds, often.
    case appRefresh
    /// `BGProcessingTask` (background mode `processing`), network required: minutes, when the
    /// device is idle.
    case processing
}

/// The decisions around a background sync, in plain Swift so they run in the Linux tests:
/// the time budget per task kind, which report counts as success, and when to run next.
/// `PosSyncBackgroundTasks` only adapts BGTaskScheduler to them.
public struct BackgroundSyncPolicy: Sendable, Equatable {
    /// Engine budget for an app refresh task. iOS gives it about 30 s in all, and the budget
    /// is checked between batches, so it leaves room for one batch to finish.
    public var appRefreshBudgetMs: Int64
    /// Engine budget for a processing task (iOS gives minutes; the expiration handler covers
    /// an early stop).
    public var processingBudgetMs: Int64
    /// Next app refresh after a cycle with nothing left to do.
    public var appRefreshInterval: TimeInterval
    /// Next processing task after a cycle with nothing left to do.
    public var processingInterval: TimeInterval
    /// Next run when the cycle stopped with work left (budget, expiration, upload share).
    public var moreWorkDelay: TimeInterval
    /// Ask for external power for the processing task (default: no; sales must leave the till).
    public var processingRequiresExternalPower: Bool
    /// After iOS expires a task: how long the run may take to reach a batch boundary before
    /// the task is completed anyway (iOS ends apps that do not complete expired tasks).
    public var expirationGrace: TimeInterval

    public init(
        appRefreshBudgetMs: Int64 = 20_000,
        processingBudgetMs: Int64 = 180_000,
        appRefreshInterval: TimeInterval = 15 * 60,
        processingInterval: TimeInterval = 60 * 60,
        moreWorkDelay: TimeInterval = 60,
        processingRequiresExternalPower: Bool = false,
        expirationGrace: TimeInterval = 3
    ) {
        self.appRefreshBudgetMs = appRefreshBudgetMs
        self.processingBudgetMs = processingBudgetMs
        self.appRefreshInterval = appRefreshInterval
        self.processingInterval = processingInterval
        self.moreWorkDelay = moreWorkDelay
        self.processingRequiresExternalPower = processingRequiresExternalPower
        self.expirationGrace = expirationGrace
    }

    public func budgetMs(for kind: BackgroundTaskKind) -> Int64 {
        switch kind {
        case .appRefresh: return appRefreshBudgetMs
        case .processing: return processingBudgetMs
        }
    }

    public func interval(for kind: BackgroundTaskKind) -> TimeInterval {
        switch kind {
        case .appRefresh: return appRefreshInterval
        case .processing: return processingInterval
        }
    }

    /// The value for `BGTask.setTaskCompleted(success:)`: true when the run did what a run can
    /// do — synced everything, made progress until its budget ran out, or correctly waited
    /// out a backoff the server or the engine asked for; false when it was cut short
    /// (expired/cancelled) or failed (network, server, credentials).
    public func isSuccess(_ report: SyncReport) -> Bool {
        switch report.outcome {
        case .completed, .budgetExhausted, .backedOff, .notConfigured:
            return true
        case .cancelled, .networkError, .serverError, .authError:
            return false
        }
    }

    /// When the next task of `kind` should begin, after a run that produced `report` (`nil`:
    /// before a run, or when the engine could not be opened). `nil` means do not schedule
    /// again: the engine has no server URL, so a background run has nothing to do until the
    /// app configures one (and schedules again).
    ///
    /// Work left (`moreWorkPending`) brings the next run forward to `moreWorkDelay`; the
    /// engine's own `nextSyncAllowedAtMs` (backoff, the server's Retry-After) is never
    /// undercut.
    public func nextBeginDate(
        for kind: BackgroundTaskKind, after report: SyncReport?, now: Date
    ) -> Date? {
        guard let report else { return now.addingTimeInterval(interval(for: kind)) }
        if report.outcome == .notConfigured { return nil }
        let wanted = now.addingTimeInterval(
            report.moreWorkPending ? moreWorkDelay : interval(for: kind))
        guard let allowedMs = report.nextSyncAllowedAtMs else { return wanted }
        let allowed = Date(timeIntervalSince1970: TimeInterval(allowedMs) / 1000)
        return max(wanted, allowed)
    }
}

/// The identifiers the app lists in Info.plist's `BGTaskSchedulerPermittedIdentifiers`.
public struct BackgroundTaskIdentifiers: Sendable, Equatable {
    public var appRefresh: String
    public var processing: String

    public init(appRefresh: String, processing: String) {
        precondition(appRefresh != processing, "the two background tasks need different identifiers")
        self.appRefresh = appRefresh
        self.processing = processing
    }

    public func identifier(for kind: BackgroundTaskKind) -> String {
        switch kind {
        case .appRefresh: return appRefresh
        case .processing: return processing
        }
    }

    public func kind(for identifier: String) -> BackgroundTaskKind? {
        switch identifier {
        case appRefresh: return .appRefresh
        case processing: return .processing
        default: return nil
        }
    }
}

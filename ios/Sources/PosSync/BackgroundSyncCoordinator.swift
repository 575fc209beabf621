import Foundation

/// A background task request, independent of BGTaskScheduler (so the Linux tests can see it).
public struct BackgroundTaskRequest: Sendable, Equatable {
    public var identifier: String
    public var kind: BackgroundTaskKind
    public var earliestBeginDate: Date
    /// Always true for the processing task: a sync without a network is pointless.
    public var requiresNetworkConnectivity: Bool
    public var requiresExternalPower: Bool
}

/// Submits and cancels requests (BGTaskScheduler on iOS, a recorder in tests).
public protocol BackgroundTaskSubmitter: Sendable {
    func submit(_ request: BackgroundTaskRequest) throws
    func cancel(identifier: String)
}

/// The part of a running `BGTask` the coordinator uses.
public protocol BackgroundTask: AnyObject, Sendable {
    var identifier: String { get }
    func setExpirationHandler(_ handler: (@Sendable () -> Void)?)
    func setTaskCompleted(success: Bool)
}

/// What one background run did.
public struct BackgroundRunResult: Sendable, Equatable {
    /// The engine's report (`nil` when the task expired before the cycle started, or the
    /// engine could not be opened).
    public var report: SyncReport?
    /// The value passed to `setTaskCompleted(success:)`.
    public var success: Bool
    /// iOS called the expiration handler.
    public var expired: Bool
    /// The request submitted for the next run, if any.
    public var nextRequest: BackgroundTaskRequest?
    /// Why the engine could not be opened.
    public var error: String?
}

/// Calls `setTaskCompleted(success:)` exactly once, whoever gets there first: the run, or
/// the expiration grace timer.
final class TaskCompletion: Sendable {
    private let task: any BackgroundTask
    private let value = Locked<Bool?>(nil)

    init(_ task: any BackgroundTask) { self.task = task }

    /// The value the task was completed with (the first call's).
    @discardableResult
    func complete(success: Bool) -> Bool {
        let first = value.withValue { v -> Bool in
            guard v == nil else { return false }
            v = success
            return true
        }
        if first { task.setTaskCompleted(success: success) }
        return value.current ?? success
    }
}

/// Everything a background sync does, as plain Swift: schedule, run with a budget, cancel the
/// engine on expiration, complete the task with the policy's success value, schedule the next
/// run. `PosSyncBackgroundTasks` plugs BGTaskScheduler into it on iOS; tests plug in fakes.
public final class BackgroundSyncCoordinator: Sendable {
    public let identifiers: BackgroundTaskIdentifiers
    public let policy: BackgroundSyncPolicy
    private let engineProvider: @Sendable () throws -> any BatchSyncEngine
    private let submitter: any BackgroundTaskSubmitter
    private let now: @Sendable () -> Date
    private let log: @Sendable (String) -> Void

    /// - Parameters:
    ///   - engine: returns the app's engine, opening it if needed (a background launch may
    ///     come before the app's UI code opened it; opening the same file returns the same
    ///     engine).
    public init(
        identifiers: BackgroundTaskIdentifiers,
        policy: BackgroundSyncPolicy = BackgroundSyncPolicy(),
        submitter: any BackgroundTaskSubmitter,
        now: @escaping @Sendable () -> Date = { Date() },
        log: @escaping @Sendable (String) -> Void = { _ in },
        engine: @escaping @Sendable () throws -> any BatchSyncEngine
    ) {
        self.identifiers = identifiers
        self.policy = policy
        self.submitter = submitter
        self.now = now
        self.log = log
        self.engineProvider = engine
    }

    /// Submits the next request for `kind`, timed by the policy from the last report. A
    /// submitted request replaces the pending one with the same identifier.
    @discardableResult
    public func schedule(_ kind: BackgroundTaskKind, after report: SyncReport? = nil)
        -> BackgroundTaskRequest?
    {
        let identifier = identifiers.identifier(for: kind)
        guard let date = policy.nextBeginDate(for: kind, after: report, now: now()) else {
            submitter.cancel(identifier: identifier)
            log("pos-sync: \(identifier) not rescheduled: no server URL is configured")
            return nil
        }
        let request = BackgroundTaskRequest(
            identifier: identifier,
            kind: kind,
            earliestBeginDate: date,
            requiresNetworkConnectivity: kind == .processing,
            requiresExternalPower: kind == .processing && policy.processingRequiresExternalPower)
        do {
            try submitter.submit(request)
            return request
        } catch {
            // Expected on the Simulator, and when the identifier is missing from Info.plist.
            log("pos-sync: could not schedule \(identifier): \(error)")
            return nil
        }
    }

    /// Schedules both tasks (call when the app goes to the background, and after launch).
    public func scheduleAll() {
        for kind in BackgroundTaskKind.allCases { schedule(kind) }
    }

    /// Runs a task iOS launched, to the end. Unknown identifiers are completed unsuccessfully.
    @discardableResult
    public func run(_ task: any BackgroundTask) async -> BackgroundRunResult {
        guard let kind = identifiers.kind(for: task.identifier) else {
            log("pos-sync: \(task.identifier) is not a pos-sync task")
            task.setTaskCompleted(success: false)
            return BackgroundRunResult(
                report: nil, success: false, expired: false, nextRequest: nil,
                error: "unknown task identifier '\(task.identifier)'")
        }
        return await run(task, kind: kind)
    }

    @discardableResult
    public func run(_ task: any BackgroundTask, kind: BackgroundTaskKind) async
        -> BackgroundRunResult
    {
        let completion = TaskCompletion(task)
        // Keep a request pending even if iOS ends the app during this run.
        schedule(kind)

        let engine: any BatchSyncEngine
        do {
            engine = try engineProvider()
        } catch {
            let message = (error as? PosSyncError)?.reason() ?? "\(error)"
            log("pos-sync: background sync could not open the engine: \(message)")
            let success = completion.complete(success: false)
            return BackgroundRunResult(
                report: nil, success: success, expired: false, nextRequest: nil, error: message)
        }

        let expired = Locked(false)
        let pump = CancelPump(engine: engine)
        let graceNanoseconds = UInt64(max(policy.expirationGrace, 0) * 1_000_000_000)
        task.setExpirationHandler {
            expired.withValue { $0 = true }
            pump.fire()
            // A batch in flight may take a request timeout to reach its boundary; iOS ends
            // apps that do not complete expired tasks, so complete after a short grace.
            // Every step commits atomically, so work cut off there is redone next time.
            Task.detached {
                try? await Task.sleep(nanoseconds: graceNanoseconds)
                completion.complete(success: false)
            }
        }

        var report: SyncReport?
        if !expired.current {
            report = await engine.runBatchSync(budgetMs: policy.budgetMs(for: kind))
        }
        pump.finish()
        let wasExpired = expired.current
        let next = schedule(kind, after: report ?? Self.expiredBeforeStart)
        let success = completion.complete(
            success: !wasExpired && report.map(policy.isSuccess) == true)
        return BackgroundRunResult(
            report: report, success: success, expired: wasExpired, nextRequest: next, error: nil)
    }

    /// Stands in for a report when the task expired before the cycle started: work is left.
    private static let expiredBeforeStart = SyncReport(
        runId: "", outcome: .cancelled, uploaded: 0, downloaded: 0, autoResolved: 0,
        conflicts: 0, failed: 0, rejected: 0, remaining: 0, durationMs: 0,
        moreWorkPending: true, nextSyncAllowedAtMs: nil,
        error: "the background task expired before the sync started")
}

// The decisions behind iOS background sync (BackgroundSyncPolicy) and the run of one task
// (BackgroundSyncCoordinator), with fakes standing in for BGTaskScheduler, BGTask and, where
// a misbehaving engine is needed, the engine. PosSyncBackgroundTasks on iOS is only the
// adapter from Apple's types to these. (Swift Testing; the real engine against the server
// is in SyncTests.)

import Foundation
import Testing

@testable import PosSync

// MARK: fakes

func report(
    _ outcome: SyncOutcome, moreWork: Bool = false, nextAllowedMs: Int64? = nil
) -> SyncReport {
    SyncReport(
        runId: "run", outcome: outcome, uploaded: 0, downloaded: 0, autoResolved: 0,
        conflicts: 0, failed: 0, rejected: 0, remaining: moreWork ? 1 : 0, durationMs: 1,
        moreWorkPending: moreWork, nextSyncAllowedAtMs: nextAllowedMs, error: nil)
}

/// An engine that behaves like the Rust one where it matters here: `runBatchSync` clears a
/// cancel that arrived before it started, and stops at a "batch boundary" once cancelled.
final class FakeEngine: BatchSyncEngine, @unchecked Sendable {
    enum Mode {
        case returns(SyncReport)
        /// Runs batches of `batch` seconds until cancelled.
        case untilCancelled(batch: TimeInterval)
        /// Ignores cancel() and takes this long (a batch stuck in a slow request).
        case ignoresCancel(seconds: TimeInterval)
    }

    private struct State {
        var cancelRequested = false
        var cancels = 0
        var budgets: [Int64] = []
        var running = false
    }

    private let mode: Mode
    private let state = Locked(State())

    init(_ mode: Mode) { self.mode = mode }

    var cancels: Int { state.current.cancels }
    var budgets: [Int64] { state.current.budgets }
    var isRunning: Bool { state.current.running }

    func cancel() {
        state.withValue {
            $0.cancelRequested = true
            $0.cancels += 1
        }
    }

    func runBatchSync(budgetMs: Int64) async -> SyncReport {
        state.withValue {
            $0.budgets.append(budgetMs)
            $0.cancelRequested = false  // as the Rust cycle does when it starts
            $0.running = true
        }
        defer { state.withValue { $0.running = false } }
        switch mode {
        case .returns(let report):
            return report
        case .untilCancelled(let batch):
            while true {
                try? await Task.sleep(nanoseconds: UInt64(batch * 1_000_000_000))
                if state.current.cancelRequested { return report(.cancelled, moreWork: true) }
            }
        case .ignoresCancel(let seconds):
            try? await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
            return report(.completed)
        }
    }
}

final class FakeTask: BackgroundTask, @unchecked Sendable {
    let identifier: String
    private let expireOnSet: Bool
    private let handler = Locked<(@Sendable () -> Void)?>(nil)
    private let completions = Locked<[Bool]>([])

    init(_ identifier: String, expireAsSoonAsHandled: Bool = false) {
        self.identifier = identifier
        self.expireOnSet = expireAsSoonAsHandled
    }

    var completed: [Bool] { completions.current }

    func setExpirationHandler(_ handler: (@Sendable () -> Void)?) {
        self.handler.withValue { $0 = handler }
        if expireOnSet { handler?() }
    }

    func setTaskCompleted(success: Bool) { completions.withValue { $0.append(success) } }

    /// What iOS does when the task's time is up.
    func expire() { handler.current?() }
}

final class FakeSubmitter: BackgroundTaskSubmitter, @unchecked Sendable {
    struct Refused: Error {}
    private let refuse: Bool
    private let submitted = Locked<[BackgroundTaskRequest]>([])
    private let cancelled = Locked<[String]>([])

    init(refuse: Bool = false) { self.refuse = refuse }

    var requests: [BackgroundTaskRequest] { submitted.current }
    var cancellations: [String] { cancelled.current }

    func submit(_ request: BackgroundTaskRequest) throws {
        if refuse { throw Refused() }
        submitted.withValue { $0.append(request) }
    }

    func cancel(identifier: String) { cancelled.withValue { $0.append(identifier) } }
}

let ids = BackgroundTaskIdentifiers(appRefresh: "test.refresh", processing: "test.processing")
let fixedNow = Date(timeIntervalSince1970: 1_800_000_000)

func coordinator(
    _ engine: @escaping @Sendable () throws -> any BatchSyncEngine,
    submitter: FakeSubmitter = FakeSubmitter(),
    policy: BackgroundSyncPolicy = BackgroundSyncPolicy(),
    log: @escaping @Sendable (String) -> Void = { _ in }
) -> BackgroundSyncCoordinator {
    BackgroundSyncCoordinator(
        identifiers: ids, policy: policy, submitter: submitter, now: { fixedNow }, log: log,
        engine: engine)
}

func waitUntil(_ what: String, timeout: TimeInterval = 5, _ condition: () -> Bool) async throws {
    try await eventually(timeout: timeout, what) { condition() }
}

// MARK: policy

@Suite("BackgroundSyncPolicy")
struct BackgroundSyncPolicyTests {
    let policy = BackgroundSyncPolicy()

    @Test("success value for every outcome")
    func successValues() {
        let expected: [(SyncOutcome, Bool)] = [
            (.completed, true), (.budgetExhausted, true), (.backedOff, true),
            (.notConfigured, true), (.cancelled, false), (.networkError, false),
            (.serverError, false), (.authError, false),
        ]
        for (outcome, success) in expected {
            #expect(policy.isSuccess(report(outcome)) == success, "\(outcome)")
        }
    }

    @Test("budget per task kind")
    func budgets() {
        #expect(policy.budgetMs(for: .appRefresh) == 20_000)
        #expect(policy.budgetMs(for: .processing) == 180_000)
        let custom = BackgroundSyncPolicy(appRefreshBudgetMs: 5_000, processingBudgetMs: 60_000)
        #expect(custom.budgetMs(for: .appRefresh) == 5_000)
        #expect(custom.budgetMs(for: .processing) == 60_000)
    }

    @Test("next begin date: interval, soon when work is left, never before the engine allows")
    func nextBeginDates() {
        let now = fixedNow
        #expect(policy.nextBeginDate(for: .appRefresh, after: nil, now: now) == now + 15 * 60)
        #expect(policy.nextBeginDate(for: .processing, after: nil, now: now) == now + 60 * 60)
        #expect(
            policy.nextBeginDate(for: .appRefresh, after: report(.completed), now: now)
                == now + 15 * 60)
        #expect(
            policy.nextBeginDate(
                for: .processing, after: report(.budgetExhausted, moreWork: true), now: now)
                == now + 60)
        #expect(
            policy.nextBeginDate(for: .appRefresh, after: report(.cancelled, moreWork: true), now: now)
                == now + 60)
        // A server-mandated wait beyond the soon-delay wins...
        let later = Int64((now.timeIntervalSince1970 + 600) * 1000)
        #expect(
            policy.nextBeginDate(
                for: .appRefresh, after: report(.backedOff, moreWork: true, nextAllowedMs: later),
                now: now) == Date(timeIntervalSince1970: TimeInterval(later) / 1000))
        // ...a short one does not pull the regular interval forward.
        let soon = Int64((now.timeIntervalSince1970 + 5) * 1000)
        #expect(
            policy.nextBeginDate(
                for: .appRefresh, after: report(.networkError, nextAllowedMs: soon), now: now)
                == now + 15 * 60)
        #expect(policy.nextBeginDate(for: .appRefresh, after: report(.notConfigured), now: now) == nil)
    }

    @Test("identifiers map to kinds")
    func identifiers() {
        #expect(ids.kind(for: "test.refresh") == .appRefresh)
        #expect(ids.kind(for: "test.processing") == .processing)
        #expect(ids.kind(for: "other") == nil)
        #expect(ids.identifier(for: .processing) == "test.processing")
    }
}

// MARK: coordinator

@Suite("BackgroundSyncCoordinator")
struct BackgroundSyncCoordinatorTests {
    @Test("a completed run completes the task successfully once and reschedules")
    func completedRun() async throws {
        let engine = FakeEngine(.returns(report(.completed)))
        let submitter = FakeSubmitter()
        let task = FakeTask("test.refresh")
        let result = await coordinator({ engine }, submitter: submitter).run(task)

        #expect(task.completed == [true])
        #expect(result.success && !result.expired)
        #expect(result.report?.outcome == .completed)
        #expect(engine.budgets == [20_000])
        // Scheduled at the start (in case iOS ends the app) and again from the report.
        #expect(submitter.requests.map(\.identifier) == ["test.refresh", "test.refresh"])
        #expect(result.nextRequest?.earliestBeginDate == fixedNow + 15 * 60)
        #expect(result.nextRequest?.requiresNetworkConnectivity == false)
        #expect(engine.cancels == 0)
    }

    @Test("the processing task requires the network and gets the long budget")
    func processingRequest() async throws {
        let engine = FakeEngine(.returns(report(.budgetExhausted, moreWork: true)))
        let submitter = FakeSubmitter()
        let task = FakeTask("test.processing")
        let result = await coordinator({ engine }, submitter: submitter).run(task)
        #expect(task.completed == [true])
        #expect(engine.budgets == [180_000])
        let next = try #require(result.nextRequest)
        #expect(next.kind == .processing)
        #expect(next.requiresNetworkConnectivity)
        #expect(!next.requiresExternalPower)
        #expect(next.earliestBeginDate == fixedNow + 60, "work is left: soon")
    }

    @Test("expiration cancels the engine, completes unsuccessfully, reschedules soon")
    func expiration() async throws {
        let engine = FakeEngine(.untilCancelled(batch: 0.02))
        let task = FakeTask("test.refresh")
        let runner = coordinator({ engine })
        let run = Task { await runner.run(task) }
        try await waitUntil("the run started") { engine.isRunning }
        task.expire()
        let result = await run.value
        #expect(result.expired)
        #expect(!result.success)
        #expect(result.report?.outcome == .cancelled)
        #expect(engine.cancels >= 1)
        #expect(result.nextRequest?.earliestBeginDate == fixedNow + 60)
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(task.completed == [false], "completed exactly once")
    }

    @Test("a task that expires before the sync starts does not start it")
    func expiredBeforeStart() async throws {
        let engine = FakeEngine(.returns(report(.completed)))
        let task = FakeTask("test.refresh", expireAsSoonAsHandled: true)
        let result = await coordinator({ engine }).run(task)
        #expect(engine.budgets.isEmpty)
        #expect(result.report == nil)
        #expect(result.expired && !result.success)
        #expect(task.completed == [false])
        #expect(result.nextRequest?.earliestBeginDate == fixedNow + 60)
    }

    @Test("an engine stuck in a batch: the task is completed after the grace period anyway")
    func gracePeriod() async throws {
        let engine = FakeEngine(.ignoresCancel(seconds: 1.5))
        let task = FakeTask("test.refresh")
        let runner = coordinator({ engine }, policy: BackgroundSyncPolicy(expirationGrace: 0.1))
        let started = Date()
        let run = Task { await runner.run(task) }
        try await waitUntil("the run started") { engine.isRunning }
        task.expire()
        try await waitUntil("the task was completed") { !task.completed.isEmpty }
        #expect(Date().timeIntervalSince(started) < 1.2, "completed before the engine returned")
        #expect(task.completed == [false])
        let result = await run.value
        #expect(task.completed == [false], "the late report does not complete it again")
        #expect(!result.success && result.expired)
        #expect(engine.cancels >= 2, "kept asking the engine to stop")
    }

    @Test("an engine that cannot be opened: unsuccessful, a request stays scheduled")
    func engineOpenFails() async throws {
        let submitter = FakeSubmitter()
        let task = FakeTask("test.processing")
        let result = await coordinator(
            { throw PosSyncError.Database(reason: "database error: disk I/O error") },
            submitter: submitter
        ).run(task)
        #expect(task.completed == [false])
        #expect(result.error == "database error: disk I/O error")
        #expect(submitter.requests.count == 1)
    }

    @Test("an unknown identifier is completed unsuccessfully")
    func unknownIdentifier() async {
        let task = FakeTask("someone.else")
        let result = await coordinator({ FakeEngine(.returns(report(.completed))) }).run(task)
        #expect(task.completed == [false])
        #expect(result.error?.contains("someone.else") == true)
    }

    @Test("no server configured: the request is withdrawn")
    func notConfigured() async {
        let submitter = FakeSubmitter()
        let task = FakeTask("test.refresh")
        let result = await coordinator(
            { FakeEngine(.returns(report(.notConfigured))) }, submitter: submitter
        ).run(task)
        #expect(task.completed == [true])
        #expect(result.nextRequest == nil)
        #expect(submitter.cancellations == ["test.refresh"])
    }

    @Test("a refused submission is logged and the run still completes")
    func refusedSubmission() async {
        let messages = Locked<[String]>([])
        let task = FakeTask("test.refresh")
        let runner = coordinator(
            { FakeEngine(.returns(report(.completed))) }, submitter: FakeSubmitter(refuse: true),
            log: { message in messages.withValue { $0.append(message) } })
        let result = await runner.run(task)
        #expect(task.completed == [true])
        #expect(result.nextRequest == nil)
        #expect(messages.current.contains { $0.contains("could not schedule test.refresh") })
        runner.scheduleAll()
        #expect(messages.current.count == 4)
    }

    @Test("scheduleAll submits both tasks")
    func scheduleAll() {
        let submitter = FakeSubmitter()
        coordinator({ FakeEngine(.returns(report(.completed))) }, submitter: submitter).scheduleAll()
        #expect(submitter.requests.map(\.kind) == [.appRefresh, .processing])
        #expect(submitter.requests.map(\.earliestBeginDate) == [fixedNow + 15 * 60, fixedNow + 60 * 60])
    }
}

@Suite("Swift task cancellation")
struct CancellationTests {
    @Test("cancelling the Swift task stops the engine, even before its cycle started")
    func cancelBeforeStart() async throws {
        let engine = FakeEngine(.untilCancelled(batch: 0.02))
        let run = Task {
            await engine.withEngineCancellation {
                // The cancel arrives before the "cycle" starts, and the cycle clears it: the
                // pump must ask again.
                try? await Task.sleep(nanoseconds: 50_000_000)
                return await engine.runBatchSync(budgetMs: 1_000)
            }
        }
        run.cancel()
        let result = await run.value
        #expect(result.outcome == .cancelled)
        #expect(engine.cancels >= 2)
    }

    @Test("the pump stops once the work has finished")
    func pumpStops() async throws {
        let engine = FakeEngine(.returns(report(.completed)))
        let pump = CancelPump(engine: engine, interval: 0.01)
        pump.finish()
        pump.fire()
        #expect(engine.cancels == 0)
        let other = CancelPump(engine: engine, interval: 0.01)
        other.fire()
        try await Task.sleep(nanoseconds: 50_000_000)
        other.finish()
        let count = engine.cancels
        try await Task.sleep(nanoseconds: 50_000_000)
        #expect(engine.cancels == count)
    }
}

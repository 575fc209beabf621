// BGTaskScheduler glue: thin on purpose. Every decision (budget, success value, next date,
// expiration handling) is in BackgroundSyncCoordinator and BackgroundSyncPolicy, which the
// Linux tests run; this file only adapts Apple's types. It compiles only where the
// BackgroundTasks framework exists (iOS, iPadOS, Mac Catalyst, tvOS, visionOS).

#if canImport(BackgroundTasks) && !os(macOS)
import BackgroundTasks
import Foundation
import os

/// Background sync for iOS: registers a `BGAppRefreshTask` and a `BGProcessingTask` (network
/// required) under the app's identifiers, runs the engine's batch entry point within a
/// budget, cancels the engine when iOS expires the task, completes it with the policy's
/// success value and schedules the next run.
///
/// ```swift
/// // application(_:didFinishLaunchingWithOptions:), before it returns, on every launch:
/// backgroundTasks = PosSyncBackgroundTasks(
///     appRefreshIdentifier: "com.example.pos.sync.refresh",
///     processingIdentifier: "com.example.pos.sync.processing"
/// ) { try SyncEngine.open(config: AppConfig.engineConfig) }
/// backgroundTasks.register()
/// // sceneDidEnterBackground / applicationDidEnterBackground:
/// backgroundTasks.schedule()
/// ```
public final class PosSyncBackgroundTasks: Sendable {
    public let coordinator: BackgroundSyncCoordinator

    public init(
        appRefreshIdentifier: String,
        processingIdentifier: String,
        policy: BackgroundSyncPolicy = BackgroundSyncPolicy(),
        engine: @escaping @Sendable () throws -> SyncEngine
    ) {
        let logger = Logger(subsystem: "io.possync", category: "background")
        coordinator = BackgroundSyncCoordinator(
            identifiers: BackgroundTaskIdentifiers(
                appRefresh: appRefreshIdentifier, processing: processingIdentifier),
            policy: policy,
            submitter: SystemTaskSubmitter(),
            log: { message in logger.notice("\(message, privacy: .public)") },
            engine: { try engine() })
    }

    /// Identifiers registered in this process: iOS raises an exception when an identifier is
    /// registered twice, so a second `register()` skips them.
    private static let registered = Locked<Set<String>>([])

    /// Registers both launch handlers. Call it before `application(_:didFinishLaunchingWithOptions:)`
    /// returns, on every launch; both identifiers must be in `BGTaskSchedulerPermittedIdentifiers`.
    /// Returns false if iOS refused a registration (an identifier that is not permitted).
    @discardableResult
    public func register() -> Bool {
        var allRegistered = true
        for kind in BackgroundTaskKind.allCases {
            let identifier = coordinator.identifiers.identifier(for: kind)
            let isNew = Self.registered.withValue { $0.insert(identifier).inserted }
            guard isNew else { continue }
            let coordinator = self.coordinator
            let ok = BGTaskScheduler.shared.register(
                forTaskWithIdentifier: identifier, using: nil
            ) { task in
                let running = SystemBackgroundTask(task)
                Task.detached { await coordinator.run(running, kind: kind) }
            }
            if !ok {
                _ = Self.registered.withValue { $0.remove(identifier) }
                allRegistered = false
            }
        }
        return allRegistered
    }

    /// Submits both requests (call when the app goes to the background). Submission fails on
    /// the Simulator; the failure is logged.
    public func schedule() { coordinator.scheduleAll() }

    /// Withdraws both pending requests (for example when the till is signed out).
    public func cancelScheduled() {
        for kind in BackgroundTaskKind.allCases {
            BGTaskScheduler.shared.cancel(
                taskRequestWithIdentifier: coordinator.identifiers.identifier(for: kind))
        }
    }
}

/// BGTaskScheduler as a `BackgroundTaskSubmitter`.
struct SystemTaskSubmitter: BackgroundTaskSubmitter {
    func submit(_ request: BackgroundTaskRequest) throws {
        let bgRequest: BGTaskRequest
        switch request.kind {
        case .appRefresh:
            bgRequest = BGAppRefreshTaskRequest(identifier: request.identifier)
        case .processing:
            let processing = BGProcessingTaskRequest(identifier: request.identifier)
            processing.requiresNetworkConnectivity = request.requiresNetworkConnectivity
            processing.requiresExternalPower = request.requiresExternalPower
            bgRequest = processing
        }
        bgRequest.earliestBeginDate = request.earliestBeginDate
        try BGTaskScheduler.shared.submit(bgRequest)
    }

    func cancel(identifier: String) {
        BGTaskScheduler.shared.cancel(taskRequestWithIdentifier: identifier)
    }
}

/// A running `BGTask` as a `BackgroundTask`. BGTask is thread-safe for these calls (Apple's
/// samples set the expiration handler and complete from other queues).
final class SystemBackgroundTask: BackgroundTask, @unchecked Sendable {
    private let task: BGTask

    init(_ task: BGTask) { self.task = task }

    var identifier: String { task.identifier }

    func setExpirationHandler(_ handler: (@Sendable () -> Void)?) {
        task.expirationHandler = handler
    }

    func setTaskCompleted(success: Bool) {
        task.setTaskCompleted(success: success)
    }
}
#endif

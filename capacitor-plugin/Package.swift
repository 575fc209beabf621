// swift-tools-version: 5.9
// The iOS side of capacitor-pos-sync for Capacitor 8 apps (which resolve plugins with SwiftPM).
// It depends on Capacitor and on the PosSync Swift package (the pos-sync engine: its Swift API
// and the PosSyncFFI XCFramework), published as a distribution package (see ../ios/README.md
// in the pos-sync repository). Set POS_SYNC_SWIFT_PATH to a local checkout of that package to
// build against it instead (development).
import Foundation
import PackageDescription

let localPosSync = ProcessInfo.processInfo.environment["POS_SYNC_SWIFT_PATH"]
let posSyncPackage = localPosSync.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "pos-sync-swift"
let posSync: Package.Dependency = localPosSync.map { .package(path: $0) }
    ?? .package(url: "https://github.com/pos-sync/pos-sync-swift.git", from: "0.1.0")

let package = Package(
    name: "CapacitorPosSync",
    platforms: [.iOS(.v15)],
    products: [
        .library(
            name: "CapacitorPosSync",
            targets: ["PosSyncPlugin"])
    ],
    dependencies: [
        .package(url: "https://github.com/ionic-team/capacitor-swift-pm.git", from: "8.0.0"),
        posSync,
    ],
    targets: [
        .target(
            name: "PosSyncPlugin",
            dependencies: [
                .product(name: "Capacitor", package: "capacitor-swift-pm"),
                .product(name: "Cordova", package: "capacitor-swift-pm"),
                .product(name: "PosSync", package: posSyncPackage),
            ],
            path: "ios/Sources/PosSyncPlugin"),
        .testTarget(
            name: "PosSyncPluginTests",
            dependencies: ["PosSyncPlugin"],
            path: "ios/Tests/PosSyncPluginTests"),
    ]
)

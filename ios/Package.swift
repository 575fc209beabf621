// swift-tools-version:6.0
// The Swift package PosSync: idiomatic Swift over the UniFFI bindings of the pos-sync core.
//
// The C module PosSyncFFI (the Rust library's header and module map) comes from:
//  - Apple platforms: build/PosSyncFFI.xcframework, made by scripts/build-xcframework.sh
//    (static libraries for iOS devices, the iOS Simulator and macOS);
//  - Linux (the project's tests): build/ffi/PosSyncFFI, made by scripts/generate-bindings.sh,
//    linking the host-built libpos_sync.so. scripts/swift-linux.sh passes its directory with
//    -L/-rpath on the command line, so this manifest carries no unsafeFlags and stays
//    usable as a dependency.
// The generated Swift (Sources/PosSync/Generated/PosSync.swift) is copied there by
// scripts/generate-bindings.sh; it is git-ignored and never edited.
//
// Apps that depend on the package by URL use the distribution package that
// scripts/build-xcframework.sh assembles (see ios/README.md): SwiftPM reads a package's
// manifest from the root of the repository it clones, and this repository commits neither
// the generated Swift nor the XCFramework.
import PackageDescription

#if os(Linux)
let ffi: Target = .systemLibrary(name: "PosSyncFFI", path: "build/ffi/PosSyncFFI")
#else
let ffi: Target = .binaryTarget(name: "PosSyncFFI", path: "build/PosSyncFFI.xcframework")
#endif

let package = Package(
    name: "PosSync",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "PosSync", targets: ["PosSync"])
    ],
    targets: [
        ffi,
        .target(
            name: "PosSync",
            dependencies: ["PosSyncFFI"],
            path: "Sources/PosSync",
            // Swift 5 mode for this target only: with an async foreign-trait method (the token
            // provider), Swift 6.0.3's TransferNonSendable pass crashes on UniFFI 0.32's
            // generated uniffiTraitInterfaceCallAsyncWithError (uniffi #2929). The tests stay
            // in Swift 6 mode. Back to .v6 once a UniFFI/Swift release fixes it.
            swiftSettings: [.swiftLanguageMode(.v5)],
            linkerSettings: [
                .linkedLibrary("pos_sync", .when(platforms: [.linux])),
                // The Rust standard library and chrono's time zone lookup on Apple platforms.
                .linkedFramework("CoreFoundation", .when(platforms: [.iOS, .macOS])),
                .linkedFramework("Security", .when(platforms: [.iOS, .macOS])),
            ]
        ),
        .testTarget(
            name: "PosSyncTests",
            dependencies: ["PosSync"],
            path: "Tests/PosSyncTests"
        ),
    ],
    swiftLanguageModes: [.v6]
)

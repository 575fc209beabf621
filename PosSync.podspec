# CocoaPods spec for the Swift API of pos-sync (see ios/README.md).
#
# The pod is the hand-written and generated Swift of ios/Sources/PosSync plus the Rust core as
# PosSyncFFI.xcframework (static libraries). Neither the generated Swift nor the XCFramework is
# committed, so the pod comes from the release zip that `scripts/build-xcframework.sh --release`
# makes; it has this repository's layout, so a local checkout works the same way after running
# that script: pod 'PosSync', :path => '../pos-sync'
#
# Set POS_SYNC_RELEASE_URL to where the release assets are served when linting or pushing.

version = File.read(File.join(__dir__, 'Cargo.toml'))[/^version = "([^"]+)"/, 1]
release_url = ENV.fetch('POS_SYNC_RELEASE_URL',
                        "https://github.com/pos-sync/pos-sync/releases/download/v#{version}")

Pod::Spec.new do |s|
  s.name = 'PosSync'
  s.version = version
  s.summary = 'Offline-first sync engine for point-of-sale apps: SQLite sync queue, conflicts, background sync.'
  s.description = <<~DESC
    A Rust core owns the till's SQLite database and its sync queue (sales, stock adjustments,
    catalog, prices, customers, reports) and syncs it with the store server. This pod is its
    Swift API: async/await, AsyncStreams of sync status and conflicts, BGTaskScheduler
    background sync and an NWPathMonitor connectivity feed.
  DESC
  s.homepage = 'https://github.com/pos-sync/pos-sync'
  s.license = { :type => 'Apache-2.0' }
  s.author = 'pos-sync'
  s.source = { :http => "#{release_url}/PosSync-#{version}-cocoapods.zip" }

  s.ios.deployment_target = '15.0'
  s.swift_versions = ['6.0']
  s.static_framework = true

  s.source_files = 'ios/Sources/PosSync/**/*.swift'
  s.vendored_frameworks = 'ios/build/PosSyncFFI.xcframework'
  s.frameworks = 'CoreFoundation', 'Security', 'BackgroundTasks', 'Network'
end

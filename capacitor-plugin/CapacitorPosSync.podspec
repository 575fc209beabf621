require 'json'

package = JSON.parse(File.read(File.join(__dir__, 'package.json')))

# CocoaPods spec of the plugin's iOS side, for Capacitor apps that still use CocoaPods
# (Capacitor 8 apps use SwiftPM by default: see Package.swift). The engine comes from the
# PosSync pod (pos-sync's PosSync.podspec: its Swift API and the PosSyncFFI XCFramework).
# Apps install it from node_modules: `npx cap sync` writes
#   pod 'CapacitorPosSync', :path => '../../node_modules/capacitor-pos-sync'
Pod::Spec.new do |s|
  s.name = 'CapacitorPosSync'
  s.version = package['version']
  s.summary = package['description']
  s.license = package['license']
  s.homepage = 'https://github.com/pos-sync/pos-sync'
  s.author = package['author']
  s.source = { :git => 'https://github.com/pos-sync/pos-sync.git', :tag => "capacitor-pos-sync@#{s.version}" }
  s.source_files = 'ios/Sources/**/*.{swift,h,m,c,cc,mm,cpp}'
  s.ios.deployment_target = '15.0'
  s.dependency 'Capacitor'
  s.dependency 'PosSync'
  s.swift_version = '5.9'
end

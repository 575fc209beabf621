// The generated PosSyncError already implements `description` with the Rust Display text (the
// engine's sentence); UniFFI 0.32 does not declare the conformance, so without this line
// "\(error)" and `localizedDescription` would print a dump of the enum case instead.

extension PosSyncError: CustomStringConvertible {}

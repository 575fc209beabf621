// Guards the promise that the tests call every function the bindings export: reads the
// generated Swift, lists the exported functions, and looks for a call to each in the tests.

import Foundation
import Testing

@Suite("Coverage of the exported API")
struct CoverageTests {
    static let testsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let generated = testsDir.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/PosSync/Generated/PosSync.swift")

    /// Members of the exported classes (`open func`, and the named constructors as
    /// `public static func` inside `open class` blocks) as "Type.name", and top-level
    /// `public func name(` as "name", minus UniFFI's own helpers. The generated code is not
    /// indented, so a class block is taken to run until the next top-level type declaration.
    static func exportedFunctions() throws -> [String] {
        let source = try String(contentsOf: generated, encoding: .utf8)
        var names: [String] = []
        var currentClass: String?
        for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("open class ") {
                currentClass = String(
                    line.dropFirst("open class ".count).prefix { $0.isLetter || $0.isNumber })
                continue
            }
            if ["public struct ", "public protocol ", "public enum ", "extension ", "fileprivate "]
                .contains(where: { line.hasPrefix($0) })
            {
                currentClass = nil
                continue
            }
            for prefix in ["open func ", "public static func ", "public func "]
            where line.hasPrefix(prefix) {
                // The name and its first argument label: "recordSale(saleJson:", "status()".
                let signature = line.dropFirst(prefix.count).replacingOccurrences(of: "`", with: "")
                guard let paren = signature.firstIndex(of: "(") else { continue }
                let arguments = signature[signature.index(after: paren)...]
                let name = String(signature[..<paren])
                    + (arguments.hasPrefix(")") ? "()" : "(\(arguments.prefix { $0 != ":" }):")
                if name.hasPrefix("FfiConverter") || name.hasPrefix("uniffi") { continue }
                if let currentClass {
                    // Foreign-trait stand-ins (…Impl) are covered by implementing the protocol.
                    if !currentClass.hasSuffix("Impl") { names.append("\(currentClass).\(name)") }
                } else if prefix == "public func " {
                    names.append(name)
                }
            }
        }
        return names
    }

    @Test("every exported function is called by a test")
    func everyExportedFunctionIsCalled() throws {
        let exported = try Self.exportedFunctions()
        #expect(exported.contains("SyncEngine.open(config:"))
        #expect(exported.contains("SyncEngine.syncNow()"))
        #expect(exported.contains("posSyncVersion()"))
        #expect(exported.count >= 39, "\(exported)")

        let tests = try FileManager.default.contentsOfDirectory(atPath: Self.testsDir.path)
            .filter { $0.hasSuffix(".swift") && $0 != "CoverageTests.swift" }
            .map { try String(contentsOf: Self.testsDir.appendingPathComponent($0), encoding: .utf8) }
            .joined(separator: "\n")
        // A call with the generated argument label: `.recordSale(saleJson:`, not the
        // hand-written `recordSale(_:)` overload.
        let missing = exported.filter { qualified in
            let call = qualified.split(separator: ".", maxSplits: 1).last.map(String.init) ?? qualified
            return !tests.contains(".\(call)") && !tests.contains(" \(call)")
        }
        #expect(missing.isEmpty, "exported but never called by a test: \(missing)")
    }
}

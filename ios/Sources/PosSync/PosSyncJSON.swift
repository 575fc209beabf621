import Foundation

/// JSON in the engine's shape: snake_case keys (`product_id`), so Swift models can use their
/// usual camelCase property names.
public enum PosSyncJSON {
    public static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return String(decoding: data, as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from json: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: Data(json.utf8))
    }
}

/// A record that carries the app's full JSON document.
public protocol PosSyncDocument {
    var json: String { get }
}

extension PosSyncDocument {
    /// The document decoded into the app's own model (snake_case keys become camelCase).
    public func decoded<T: Decodable>(as type: T.Type = T.self) throws -> T {
        try PosSyncJSON.decode(type, from: json)
    }
}

extension Product: PosSyncDocument {}
extension Customer: PosSyncDocument {}
extension Report: PosSyncDocument {}
extension Sale: PosSyncDocument {}

extension SyncEngine {
    /// Records a sale from the app's model (see `recordSale(saleJson:)`).
    @discardableResult
    public func recordSale(_ sale: some Encodable) throws -> SaleReceipt {
        try recordSale(saleJson: PosSyncJSON.encode(sale))
    }

    @discardableResult
    public func recordStockAdjustment(_ adjustment: some Encodable) throws -> ChangeRef {
        try recordStockAdjustment(adjustmentJson: PosSyncJSON.encode(adjustment))
    }

    @discardableResult
    public func createCustomer(_ customer: some Encodable) throws -> Customer {
        try createCustomer(customerJson: PosSyncJSON.encode(customer))
    }

    @discardableResult
    public func updateCustomer(_ customer: some Encodable) throws -> Customer {
        try updateCustomer(customerJson: PosSyncJSON.encode(customer))
    }

    public func putReport(key: String, _ report: some Encodable) throws {
        try putReport(key: key, reportJson: PosSyncJSON.encode(report))
    }

    @discardableResult
    public func importProducts(_ products: [some Encodable]) throws -> Int64 {
        try importProducts(productsJson: PosSyncJSON.encode(products))
    }
}

import Foundation

/// A table filled once at start-up (`OpRegistry.install()`) and read from any thread afterwards: the
/// per-stage tables of the op registry (docs/op-registry.md) share this one lock-guarded dictionary.
public final class RegistryTable<Key: Hashable & Comparable, Value>: @unchecked Sendable {
    private var entries: [Key: Value] = [:]
    private let lock = NSLock()

    public init() {}

    /// The value under `key`, or nil.
    public subscript(key: Key) -> Value? {
        lock.lock(); defer { lock.unlock() }
        return entries[key]
    }

    /// Stores `value` under `key` unless `keep(existing)` says the entry already there stays (default:
    /// replace).
    public func insert(_ value: Value, for key: Key, keeping keep: (Value) -> Bool = { _ in false }) {
        lock.lock(); defer { lock.unlock() }
        if let existing = entries[key], keep(existing) { return }
        entries[key] = value
    }

    /// The keys, ascending.
    public var keys: [Key] {
        lock.lock(); defer { lock.unlock() }
        return entries.keys.sorted()
    }
}

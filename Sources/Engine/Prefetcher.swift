import Foundation

/// Loads the next batch on a background thread while the current one trains: `request` starts a load,
/// `take` waits for it. One load is in flight at a time; an error is rethrown by `take`.
final class Prefetcher<Value>: @unchecked Sendable {
    private let queue = DispatchQueue(label: "tlab.prefetch", qos: .userInitiated)
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<Value, Error>?
    private var inFlight: Int?

    /// Starts loading batch `key`.
    func request(_ key: Int, _ load: @escaping () throws -> Value) {
        precondition(inFlight == nil, "one prefetch at a time")
        inFlight = key
        queue.async { [self] in
            result = Result { try load() }
            done.signal()
        }
    }

    /// The batch `key`: the prefetched one when one is in flight (it must be `key`), else loaded now.
    func take(_ key: Int, orLoad load: () throws -> Value) throws -> Value {
        guard let k = inFlight else { return try load() }
        precondition(k == key, "prefetched batch \(k), asked for \(key)")
        done.wait()
        inFlight = nil
        defer { result = nil }
        return try result!.get()
    }

    /// Waits for a load still running (before its inputs go away).
    func drain() { if inFlight != nil { done.wait(); inFlight = nil; result = nil } }
}

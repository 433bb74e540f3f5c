import Foundation

/// The one way anything reaches the UI thread: background threads (the run watcher, signal handlers) post
/// messages; the UI loop takes them all between frames. Nothing but the UI thread touches curses or the state.
final class Inbox<Message>: @unchecked Sendable {
    private let lock = NSLock()
    private var messages: [Message] = []

    func post(_ message: Message) { lock.lock(); messages.append(message); lock.unlock() }

    /// Everything posted since the last call, oldest first.
    func takeAll() -> [Message] {
        lock.lock(); defer { lock.unlock() }
        let out = messages
        messages.removeAll(keepingCapacity: true)
        return out
    }
}

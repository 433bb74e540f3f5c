/// A check that holds in every build, -Ounchecked included (where `precondition` is compiled out).
/// Used for shapes and arguments, never inside per-element loops.
@inline(__always)
public func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                    file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
